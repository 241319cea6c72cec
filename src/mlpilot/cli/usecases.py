"""`mlpilot usecases …`: browse the use-case catalog.

The catalog ships with the package, so this command reads it directly: it works without a server or a token
(the same filters and search as GET /api/v1/usecases, same validation).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlpilot.cli.console import console, err_console, print_table
from mlpilot.core.errors import InvalidInput
from mlpilot.usecases import catalog
from mlpilot.usecases.catalog import UseCase

app = typer.Typer(help="The use-case catalog (read locally, no server needed).", no_args_is_help=True)


def as_row(usecase: UseCase, locale: str) -> dict[str, object]:
    """One use case as printed: texts in `locale`, the English and Korean titles both kept."""
    return {"key": usecase.key, "title": usecase.localized_title(locale), "title_en": usecase.title.en,
            "title_ko": usecase.title.ko, "industry": usecase.industry, "task": usecase.task,
            "needs_outside_engine": usecase.needs_outside_engine, "difficulty": usecase.difficulty,
            "time_series": usecase.time_series, "problem": usecase.problem.get(locale),
            "data_needed": usecase.data_needed.get(locale), "kpis": usecase.localized_kpis(locale),
            "typical_value": usecase.typical_value.get(locale), "blueprint": usecase.blueprint}


@app.command("list")
def list_usecases(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    industry: Annotated[str | None, typer.Option(help=", ".join(catalog.INDUSTRIES))] = None,
    task: Annotated[str | None, typer.Option(help=", ".join(catalog.TASKS))] = None,
    difficulty: Annotated[str | None, typer.Option(help=", ".join(catalog.DIFFICULTIES))] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Words to find (English or Korean).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the texts: en or ko.")] = "en",
) -> None:
    """List the use cases, filtered and searched."""
    if lang not in ("en", "ko"):
        err_console.print(f"[red]--lang must be en or ko; got {lang!r}.[/]")
        raise typer.Exit(2)
    try:
        found = catalog.search(catalog.current_catalog(), industry=industry, task=task, difficulty=difficulty,
                               query=search)
    except InvalidInput as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    rows = [as_row(u, lang) for u in found]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    print_table(rows, ["key", "title", "industry", "task", "difficulty", "blueprint"], empty="No use case matches.")
    console.print(f"[dim]{len(rows)} of {len(catalog.list_usecases())} use cases.[/]")
