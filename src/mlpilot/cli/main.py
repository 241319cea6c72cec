"""The Typer root: `mlpilot up` plus one sub-command per noun."""

from __future__ import annotations

import typer

from mlpilot import __version__
from mlpilot.cli import (
    accounts,
    automl,
    blueprints,
    comms,  # noqa: F401 - registers `mlpilot pmo digest|meetings|deliverables`
    data,
    datasets,
    feeder,
    labeling,
    monitor,
    pmo,
    projects,
    recipes,
    reports,
    runs,
    scoring,
    services,
    team,
    usecases,
    value,
)
from mlpilot.cli.serve import serve
from mlpilot.cli.up import up
from mlpilot.cli.worker import worker

app = typer.Typer(help="mlpilot: from a business problem to a monitored AI service.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.command()(up)
app.command()(serve)
app.command()(worker)
app.add_typer(projects.app, name="projects")
app.add_typer(datasets.app, name="datasets")
app.add_typer(recipes.app, name="recipes")
app.add_typer(feeder.app, name="pipelines")
app.add_typer(data.app, name="data")
app.add_typer(runs.app, name="runs")
app.add_typer(services.models_app, name="models")
app.add_typer(services.app, name="services")
app.add_typer(reports.app, name="reports")
app.add_typer(pmo.app, name="pmo")
app.add_typer(accounts.tokens_app, name="tokens")
app.add_typer(accounts.users_app, name="users")
app.add_typer(accounts.jobs_app, name="jobs")
app.add_typer(monitor.app, name="monitor")
app.add_typer(scoring.app, name="scoring")
app.add_typer(automl.app, name="automl")
app.add_typer(usecases.app, name="usecases")
app.add_typer(labeling.app, name="label")
app.add_typer(value.app, name="value")
app.add_typer(team.app, name="team")
app.add_typer(blueprints.app, name="blueprints")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
