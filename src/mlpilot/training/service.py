"""The training domain's use cases, in one place for routes, pages, the CLI and other domains.

Runs and experiments are records (`runs`); a job fits them (`fitting`); engines come from a catalog (`catalog`),
vendor models over HTTP from `external`; `comparison` puts runs side by side. Importing this module registers
the fit job's handler and interrupt hook.
"""

from mlpilot.training.catalog import (
    ENGINE_LIBRARIES,
    default_engine,
    engine_installed,
    list_engines,
)
from mlpilot.training.comparison import (
    MAX_COMPARED,
    RunComparison,
    compare_runs,
)
from mlpilot.training.external import (
    create_external_engine,
    delete_external_engine,
    describe_external_engine,
    get_external_engine,
    list_external_engines,
    resolve_external_config,
)
from mlpilot.training.fitting import (
    fit_run,
    split_for_evaluation,
)
from mlpilot.training.runs import (
    ACTIVE,
    DEFAULT_EXPERIMENT,
    FIT_JOB,
    MAX_BUDGET_S,
    MAX_TAGS,
    MIN_TRAIN_ROWS,
    TASK_METRICS,
    TEST_FRACTION,
    TrainingSummary,
    clean_tags,
    create_run,
    describe_dataset,
    experiment_names,
    get_or_create_experiment,
    get_run,
    get_runs,
    leaderboard,
    leaderboard_entries,
    list_experiments,
    list_runs,
    project_summary,
    register_run,
    registration_decision,
    update_run,
)
from mlpilot.training.schemas import LeaderboardEntry

__all__ = [
    "ACTIVE",
    "DEFAULT_EXPERIMENT",
    "ENGINE_LIBRARIES",
    "FIT_JOB",
    "MAX_BUDGET_S",
    "MAX_COMPARED",
    "MAX_TAGS",
    "MIN_TRAIN_ROWS",
    "TASK_METRICS",
    "RunComparison",
    "TEST_FRACTION",
    "clean_tags",
    "compare_runs",
    "create_external_engine",
    "create_run",
    "default_engine",
    "delete_external_engine",
    "describe_dataset",
    "describe_external_engine",
    "engine_installed",
    "experiment_names",
    "fit_run",
    "get_external_engine",
    "get_or_create_experiment",
    "get_run",
    "get_runs",
    "leaderboard",
    "LeaderboardEntry",
    "TrainingSummary",
    "leaderboard_entries",
    "list_engines",
    "list_experiments",
    "list_external_engines",
    "list_runs",
    "project_summary",
    "register_run",
    "registration_decision",
    "resolve_external_config",
    "split_for_evaluation",
    "update_run",
]
