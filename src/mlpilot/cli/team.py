"""`mlpilot team …`: a project's team — the gap map, skill gaps, staffing cost, build in house vs managed, and
the salary table."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, print_json, print_table

app = typer.Typer(help="Team and skills: gaps, training, staffing cost, build vs managed.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _get(project: str, path: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    with api_client() as client:
        found = client.find_project(project)
        return found, client.get(f"/api/v1/projects/{found['id']}/team{path}", params=params or {})


@app.command()
def gaps(project: str, as_json: JsonFlag = False) -> None:
    """Show people needed vs available per role and week of PROJECT's plan (name or id)."""
    found, data = _get(project, "/gaps")
    if as_json:
        print_json(data)
        return
    rows = [{"role": r["role"], "available": r["available"], "peak_needed": r["peak_needed"],
             "peak_short": r["peak_short"], "short_weeks": r["short_weeks"]} for r in data["rows"]]
    print_table(rows, ["role", "available", "peak_needed", "peak_short", "short_weeks"],
                title=f"Gap map of {found['name']} ({len(data['weeks'])} weeks)",
                empty="No needs yet: state the roles each plan task needs (mlpilot team suggest PROJECT).")
    console.print(f"Person-weeks short: {data['short_person_weeks']}")


@app.command()
def skills(project: str, as_json: JsonFlag = False) -> None:
    """Show the skill level each AI step needs, the team's best, and training for what is short."""
    found, data = _get(project, "/skills")
    if as_json:
        print_json(data)
        return
    rows = [{"step": g["step"], "needed": g["required"], "best": g["best"], "short": g["short"],
             "courses": "; ".join(c["title_en"] for c in g["courses"])} for g in data]
    print_table(rows, ["step", "needed", "best", "short", "courses"], title=f"Skills of {found['name']}",
                empty="No needs tied to an AI step yet.")


@app.command()
def cost(project: str, as_json: JsonFlag = False) -> None:
    """Show the staffing cost of PROJECT's plan per role, priced with the salary table."""
    found, data = _get(project, "/cost")
    if as_json:
        print_json(data)
        return
    print_table(data["by_role"], ["role", "person_months", "cost"], title=f"Staffing cost of {found['name']}",
                empty="No needs yet, so no cost.")
    console.print(f"Total {data['total']:,.0f} {data['currency']} · team per month "
                  f"{data['team_monthly_cost']:,.0f}")


@app.command()
def compare(project: str, years: Annotated[int, typer.Option(min=1, max=3, help="Years compared (1–3).")] = 3,
            as_json: JsonFlag = False) -> None:
    """Compare building the team in house with a managed service over 1–3 years."""
    found, data = _get(project, "/compare", {"years": years})
    if as_json:
        print_json(data)
        return
    rows = [{"option": o["option"], "year": y["year"], "staff": y["staff"], "hiring": y["hiring"],
             "tooling": y["tooling"], "infrastructure": y["infrastructure"], "service_fee": y["service_fee"],
             "total": y["total"]} for o in (data["in_house"], data["managed"]) for y in o["years"]]
    print_table(rows, ["option", "year", "staff", "hiring", "tooling", "infrastructure", "service_fee", "total"],
                title=f"Build in house vs managed for {found['name']} ({data['currency']}, basis: {data['basis']})")
    console.print(f"In house {data['in_house']['total']:,.0f} (first value after "
                  f"{data['in_house']['time_to_first_value_months']} months) · managed "
                  f"{data['managed']['total']:,.0f} ({data['managed']['time_to_first_value_months']} months) · "
                  f"cheaper: {data['cheaper']}")


@app.command()
def suggest(project: str, as_json: JsonFlag = False) -> None:
    """Give the tasks of the 7-step plan that state no need yet the default roles of their AI step."""
    with api_client() as client:
        found = client.find_project(project)
        added = client.post(f"/api/v1/projects/{found['id']}/team/needs/suggest")
    if as_json:
        print_json(added)
        return
    console.print(f"Added {len(added)} needs to {found['name']}.")


@app.command()
def salaries(as_json: JsonFlag = False) -> None:
    """Show the salary table (monthly cost per role and level)."""
    with api_client() as client:
        data = client.get_object("/api/v1/team/salaries")
    if as_json:
        print_json(data)
        return
    print_table(data["entries"], ["role", "level", "monthly_cost"],
                title=f"Salary table ({data['currency']}, {data['source']})")
