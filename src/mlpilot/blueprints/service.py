"""The blueprints domain's use cases: the marketplace (`catalog`), publishing a project (`publish`) and
instantiating a blueprint into a new project (`instantiate`, a job). Importing this module registers the job."""

from mlpilot.blueprints.catalog import (
    BlueprintEntry,
    builtin_blueprints,
    delete_blueprint,
    export_document,
    get_blueprint,
    import_document,
    list_blueprints,
    project_blueprint,
    require_publisher,
    store_blueprint,
)
from mlpilot.blueprints.instantiate import (
    INSTANTIATE_JOB,
    InstantiationResult,
    check_blueprint,
    instantiate,
    service_name_for,
    start_instantiation,
)
from mlpilot.blueprints.publish import publish_project

__all__ = [
    "INSTANTIATE_JOB",
    "BlueprintEntry",
    "InstantiationResult",
    "builtin_blueprints",
    "check_blueprint",
    "delete_blueprint",
    "export_document",
    "get_blueprint",
    "import_document",
    "instantiate",
    "list_blueprints",
    "project_blueprint",
    "publish_project",
    "require_publisher",
    "service_name_for",
    "start_instantiation",
    "store_blueprint",
]
