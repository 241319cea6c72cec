"""Bad blueprint files are refused with the field named, before anything is created."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session

from mlpilot.blueprints.catalog import builtin_blueprints
from mlpilot.blueprints.instantiate import check_blueprint
from mlpilot.blueprints.spec import dump_yaml, load_yaml
from mlpilot.core.errors import InvalidInput


def churn(**changes: Any) -> dict[str, Any]:
    doc = builtin_blueprints()["churn-binary"].model_dump(mode="json", exclude_none=True)
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return doc


def refused(doc: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_yaml(yaml.safe_dump(doc, allow_unicode=True))
    return str(caught.value.detail)


def test_builtins_parse_and_dump_round_trip() -> None:
    for spec in builtin_blueprints().values():
        assert load_yaml(dump_yaml(spec)) == spec


def test_unknown_field_is_named() -> None:
    doc = churn()
    doc["training"]["engin"] = "lightgbm"
    assert "training.engin: unknown field" in refused(doc)
    doc = churn()
    doc["colour"] = "blue"
    assert "colour: unknown field" in refused(doc)


def test_newer_or_missing_schema_version() -> None:
    assert "schema_version: 2 is newer than this mlpilot reads (1)" in refused(churn(schema_version=2))
    doc = churn()
    del doc["schema_version"]
    assert "schema_version: required" in refused(doc)


def test_missing_connection_is_named() -> None:
    message = refused(churn(data__source={"connection": "crm-db"}))
    assert "data.source.connection: 'crm-db' is not one of the blueprint's connections (crm-export)" in message
    kpi = {"name": {"en": "Churned", "ko": "이탈"}, "unit": "customers", "source": "feed", "connection": "billing",
           "feed_month_column": "month", "feed_value_column": "churned"}
    message = refused(churn(value_tree__drivers=[{"name": {"en": "d", "ko": "d"}, "kpis": [kpi]}]))
    assert "value_tree.drivers[0].kpis[0].connection: 'billing' is not one of the blueprint's connections" in message


def test_secrets_are_refused_in_a_file() -> None:
    doc = churn(connections=[{"name": "db", "kind": "sql", "settings": {"url": "x", "password": "p"}}])
    assert "settings.password: a blueprint holds no secrets" in refused(doc)


def test_bad_values_and_yaml() -> None:
    assert "training.task" in refused(churn(training__task="clustering"))
    assert "training.time_budget_s" in refused(churn(training__time_budget_s=-1))
    assert "name" in refused(churn(name="Bad Name!"))
    with pytest.raises(InvalidInput, match="not valid YAML at line"):
        load_yaml("name: [unclosed")
    with pytest.raises(InvalidInput, match="a blueprint is a YAML mapping"):
        load_yaml("- a\n- b\n")
    with pytest.raises(InvalidInput, match="aliases"):
        load_yaml("a: &x [1, 2]\nb: [*x, *x]\n")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        load_yaml("[" * 100_000)
    with pytest.raises(InvalidInput, match="nested too deeply"):
        load_yaml("- " * 5_000 + "x")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_yaml(b"name: \xff\xfe")
    with pytest.raises(InvalidInput, match="larger than"):
        load_yaml("x" * (600 * 1024))


def test_installation_checks_name_the_field(session: Session) -> None:
    def checked(doc: dict[str, Any]) -> str:
        with pytest.raises(InvalidInput) as caught:
            check_blueprint(session, load_yaml(yaml.safe_dump(doc)))
        return str(caught.value.detail)

    assert "training.engine: unknown engine 'xgboost-gpu'" in checked(churn(training__engine="xgboost-gpu"))
    assert "connections[0].kind: unknown connection kind 'ftp'" in checked(
        churn(connections=[{"name": "crm-export", "kind": "ftp"}]))
    assert "plan.template:" in checked(churn(plan={"template": "no-such-plan"}))
    assert "monitors[0].metric: unknown metric 'happiness'" in checked(
        churn(monitors=[{"name": "m", "metric": "happiness", "threshold": 1}]))
    assert "deployment.gate.metric: 'rmse' is not measured for task 'binary'" in checked(
        churn(deployment__gate={"metric": "rmse", "at_most": 1}))
    assert "recipe.steps:" in checked(churn(recipe={"name": "r", "steps": [{"op": "explode"}]}))
    assert "usecases[0]: no use case 'nope'" in checked(churn(usecases=["nope"]))
    check_blueprint(session, builtin_blueprints()["churn-binary"])


def test_builtins_and_the_use_case_catalog_point_at_each_other() -> None:
    from mlpilot.usecases import catalog

    for spec in builtin_blueprints().values():
        for key in spec.usecases:
            usecase = catalog.find_usecase(key)
            assert usecase is not None and usecase.blueprint == spec.name, (spec.name, key)
    linked = {u.blueprint for u in catalog.list_usecases()}
    assert set(builtin_blueprints()) <= linked
