"""The project workspace: lifecycle stages with one page each, the sections every stage shows, and the next step.

Stages and their sections are data (`WORKSPACE`): a feature adds its section with `add_section` and the stage
page, the stage navigation and links to `section_url` pick it up. `next_step` is pure: it reads a
`ProjectState` the pages fill from the other domains' services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlpilot.core.errors import N_


@dataclass(frozen=True)
class Section:
    """A part of a stage page; its body is an HTML fragment loaded from `fragment` (with `{project_id}`)."""

    key: str
    title: str  # English msgid, translated when rendered
    fragment: str = "/projects/{project_id}/_section/{key}"

    def fragment_url(self, project_id: int) -> str:
        """Return the URL of this section's body for one project."""
        return self.fragment.format(project_id=project_id, key=self.key)


@dataclass
class Stage:
    """One lifecycle stage of the workspace: a page at /projects/{id}/{key} (the overview at /projects/{id})."""

    key: str
    title: str
    hint: str
    sections: list[Section] = field(default_factory=list)

    def url(self, project_id: int) -> str:
        """Return the page of this stage for one project."""
        return f"/projects/{project_id}" if self.key == "overview" else f"/projects/{project_id}/{self.key}"


WORKSPACE: list[Stage] = [
    Stage("overview", N_("Overview"), N_("Where the project stands and what to do next.")),
    Stage("discover", N_("Discover"), N_("Is the use case feasible and worth it?"),
          [Section("screening", N_("Feasibility screening"))]),
    Stage("data", N_("Data"), N_("Bring the data in, check its quality, clean and label it."),
          [Section("datasets", N_("Datasets")), Section("connections", N_("Connections")),
           Section("recipes", N_("Cleaning recipes")), Section("labeling", N_("Labeling")),
           Section("pipelines", N_("Training-data pipelines"))]),
    Stage("build", N_("Build"), N_("Train models, compare them and register the best."),
          [Section("runs", N_("Experiments")), Section("models", N_("Models"))]),
    Stage("deploy", N_("Deploy"), N_("Serve a model version as an online service."),
          [Section("services", N_("Services"))]),
    Stage("operate", N_("Operate"), N_("Traffic, live quality from outcomes, drift and batch scoring."),
          [Section("operations", N_("Services in operation"))]),
    Stage("manage", N_("Manage"), N_("Plan, schedule, members, risks, value and reports."),
          [Section("plan", N_("Plan and schedule")), Section("reports", N_("Reports"))]),
]


def get_stage(key: str) -> Stage | None:
    """Return the workspace stage named `key`, if there is one."""
    return next((s for s in WORKSPACE if s.key == key), None)


def add_section(stage: str, section: Section, *, after: str | None = None) -> None:
    """Add `section` to `stage` (at the end, or after the section `after`); adding a key twice is a no-op."""
    target = get_stage(stage)
    if target is None:
        raise ValueError(f"Unknown workspace stage {stage!r}; expected one of: {', '.join(s.key for s in WORKSPACE)}.")
    if any(s.key == section.key for s in target.sections):
        return
    keys = [s.key for s in target.sections]
    position = keys.index(after) + 1 if after in keys else len(keys)
    target.sections.insert(position, section)


def stage_of_section(key: str) -> Stage | None:
    """Return the stage that shows the section `key`."""
    return next((s for s in WORKSPACE if any(x.key == key for x in s.sections)), None)


def section_url(project_id: int, key: str) -> str:
    """Return the page and anchor where section `key` of a project is shown (the overview when unknown)."""
    stage = stage_of_section(key)
    if stage is None:
        return f"/projects/{project_id}"
    return f"{stage.url(project_id)}#section-{key}"


@dataclass(frozen=True)
class ProjectState:
    """What a project holds, counted by the pages from the other domains' services."""

    datasets: int = 0
    runs: int = 0
    succeeded_runs: int = 0
    active_runs: int = 0
    model_versions: int = 0
    services: int = 0
    services_with_outcomes: int = 0
    screened: bool = False


@dataclass(frozen=True)
class NextStep:
    """The one thing to do next: a sentence, the stage it happens in and the link to act."""

    key: str
    title: str  # English msgid
    detail: str  # English msgid
    stage: str
    url: str


def next_step(project_id: int, state: ProjectState) -> NextStep:
    """Return what to do next, from the first lifecycle gap of the project's real state."""
    def step(key: str, title: str, detail: str, section: str) -> NextStep:
        stage = stage_of_section(section)
        return NextStep(key, title, detail, stage.key if stage else "overview", section_url(project_id, section))

    if state.datasets == 0:
        return step("upload", N_("Upload data"),
                    N_("The project has no dataset yet: upload a CSV, Excel or Parquet file, or read one from a "
                       "connection."), "datasets")
    if state.active_runs:
        return step("wait", N_("Training is running"),
                    N_("Follow the progress of the running experiment; its leaderboard appears when it ends."),
                    "runs")
    if state.succeeded_runs == 0:
        return step("train", N_("Train a model"),
                    N_("Data is in but no experiment has succeeded: start a training run on a dataset version."),
                    "runs")
    if state.model_versions == 0:
        return step("register", N_("Register a model"),
                    N_("Experiments succeeded but no model version is registered yet: register the best run."),
                    "models")
    if state.services == 0:
        return step("deploy", N_("Deploy a service"),
                    N_("A model version is ready: deploy it as a service to get predictions over HTTP."), "services")
    if state.services_with_outcomes < state.services:
        return step("outcomes", N_("Send outcomes"),
                    N_("A service runs without outcomes: send the true values of its predictions so live "
                       "quality and drift can be judged."), "operations")
    return step("report", N_("Watch and report"),
                N_("Every service has outcomes: watch quality and drift, and write the status report."), "reports")
