"""`mlpilot value …`: a project's value tree with its KPIs' actuals, ROI and payback."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, print_json, print_table

app = typer.Typer(help="Value trees: KPI actuals, ROI and payback.", no_args_is_help=True)


@app.command()
def show(project: str, months: Annotated[int, typer.Option(help="Calendar months up to this one (1–60).")] = 12,
         days: Annotated[int, typer.Option(help="Days of the daily series (1–366).")] = 31,
         as_json: Annotated[bool, typer.Option("--json", help="Print the whole value summary as JSON.")] = False
         ) -> None:
    """Show the value tree of PROJECT (name or id): each KPI's actual, progress and benefit, and the ROI."""
    with api_client() as client:
        found = client.find_project(project)
        summary = client.get_object(f"/api/v1/projects/{found['id']}/value",
                                    params={"months": months, "days": days})
    if as_json:
        print_json(summary)
        return
    rows = [{"kpi": k["name_en"], "source": k["source"], "baseline": k["baseline"], "target": k["target"],
             "actual": k["actual"], "progress": k["progress"], "benefit": k["benefit"], "error": k["error"]}
            for k in summary["kpis"]]
    print_table(rows, ["kpi", "source", "baseline", "target", "actual", "progress", "benefit", "error"],
                title=f"Value of {found['name']} ({summary['first_month']} – {summary['last_month']})",
                empty="No KPIs yet: build the value tree on the project's Value page or over the API.")
    roi = summary["roi"]
    payback = ("—" if roi["payback_months"] is None
               else f"{roi['payback_months']} months" + (" (projected)" if roi["payback_projected"] else ""))
    ratio = "—" if roi["roi"] is None else f"{roi['roi']:.1%}"
    console.print(f"Benefit {roi['total_benefit']:,.0f} {roi['currency']} · cost {roi['total_cost']:,.0f} · "
                  f"ROI {ratio} · payback {payback}")
