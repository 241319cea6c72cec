"""`mlpilot tokens …`, `mlpilot users …`, `mlpilot jobs …`: tokens, users and job state."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_json, print_table

tokens_app = typer.Typer(help="Your API tokens.", no_args_is_help=True)
users_app = typer.Typer(help="Users (admin).", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)


@tokens_app.command("create")
def create_token(name: str) -> None:
    """Create an API token (shown once)."""
    with api_client() as client:
        made = client.post("/api/v1/tokens", json={"name": name})
        console.print(f"Token [bold]{made['token']}[/] — store it now; it is not shown again.")


@tokens_app.command("list")
def list_tokens() -> None:
    """List your API tokens."""
    with api_client() as client:
        print_table(client.get("/api/v1/tokens"), ["id", "name", "prefix", "created_at", "last_used_at", "revoked"])


@users_app.command("create")
def create_user(username: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
                role: str = "member", full_name: str = "") -> None:
    """Create a user (admin only)."""
    with api_client() as client:
        user = client.post("/api/v1/users", json={"username": username, "password": password, "role": role,
                                                  "full_name": full_name})
        console.print(f"Created {user['username']} ({user['role']}).")


@users_app.command("list")
def list_users() -> None:
    """List users (admin only)."""
    with api_client() as client:
        print_table(client.get("/api/v1/users"), ["id", "username", "full_name", "role", "active"])


@jobs_app.command("show")
def show_job(job_id: int) -> None:
    """Show a job."""
    with api_client() as client:
        print_json(client.get(f"/api/v1/jobs/{job_id}"))


@jobs_app.command("wait")
def wait_job(job_id: int) -> None:
    """Follow a job with a progress bar until it ends."""
    with api_client() as client:
        follow_job(client, job_id, f"Job {job_id}")
