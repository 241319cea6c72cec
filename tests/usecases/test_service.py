"""Catalog filters and the six-question screening: scoring rule, history and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mlpilot.accounts.models import Role
from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput, NotFound, PermissionDenied
from mlpilot.core.runtime import Runtime
from mlpilot.usecases import service
from mlpilot.usecases.screening import QUESTION_KEYS, score_answers
from tests.datasets.factories import make_version, synthetic_frame
from tests.projects.factories import make_project, make_user

ALL_YES = {key: "yes" for key in QUESTION_KEYS}


def test_service_lists_the_catalog_with_filters_and_search() -> None:
    assert len(service.list_usecases()) >= 30
    assert [u.key for u in service.list_usecases(industry="telecom", query="이탈")] == ["churn-prediction"]
    assert service.list_usecases(industry="retail", task="binary") == [service.get_usecase(key="promotion-response")]


def test_unknown_usecase_is_not_found() -> None:
    with pytest.raises(NotFound, match="nope"):
        service.get_usecase(key="nope")


@pytest.mark.parametrize(
    ("answers", "score", "decision"),
    [
        (ALL_YES, 12, "go"),
        ({**ALL_YES, "important": "partly", "unused_data": "partly", "single_unit": "no"}, 8, "go"),
        ({**ALL_YES, "important": "no", "unused_data": "partly", "single_unit": "partly", "operable": "partly"}, 7,
         "no-go"),
        # A "no" on a blocking question stops the project even with a high score.
        ({**ALL_YES, "needs_ml": "no"}, 10, "no-go"),
        ({**ALL_YES, "real_problem": "no"}, 10, "no-go"),
    ],
)
def test_scoring_rule(answers: dict, score: int, decision: str) -> None:
    result = score_answers(answers)
    assert (result.score, result.max_score, result.decision) == (score, 12, decision)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({**ALL_YES, "budget": "yes"}, "Unknown screening question 'budget'"),
        ({k: v for k, v in ALL_YES.items() if k != "needs_ml"}, "'needs_ml' is not answered"),
        ({**ALL_YES, "operable": "maybe"}, "'operable': answer 'maybe' is invalid"),
        ({**ALL_YES, "important": {"answer": None}}, "'important'"),
    ],
)
def test_bad_answers_name_the_question(session: Session, answers: dict, message: str) -> None:
    project = make_project(session)
    user = make_user(session, role=Role.admin)
    with pytest.raises(InvalidInput, match=message):
        service.record_screening(session, project_id=project.id, user=user, answers=answers)
    assert service.list_screenings(session, project_id=project.id) == []


def test_screenings_are_history_and_latest_is_current(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    assert service.get_current_screening(session, project_id=project.id) is None
    first = service.record_screening(session, project_id=project.id, user=owner,
                                     answers={**ALL_YES, "needs_ml": {"answer": "no", "note": "a rule will do"}})
    second = service.record_screening(session, project_id=project.id, user=owner, answers=ALL_YES)
    assert first.decision == "no-go" and first.answers["needs_ml"] == {"answer": "no", "note": "a rule will do"}
    assert service.get_current_screening(session, project_id=project.id).id == second.id
    assert [s.id for s in service.list_screenings(session, project_id=project.id)] == [second.id, first.id]


def test_only_members_record_screenings(session: Session) -> None:
    project = make_project(session)
    outsider = make_user(session)
    with pytest.raises(PermissionDenied):
        service.record_screening(session, project_id=project.id, user=outsider, answers=ALL_YES)
    with pytest.raises(NotFound):
        service.list_screenings(session, project_id=987654)


def test_readiness_refuses_bad_references_naming_the_field(live_runtime: Runtime) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        owner = make_user(session)
        project = make_project(session, user=owner)
        other = make_project(session, user=owner)
        version = make_version(session, runtime, project_id=project.id, user_id=owner.id,
                               frame=synthetic_frame("multiclass"))
        foreign = make_version(session, runtime, project_id=other.id, user_id=owner.id,
                               frame=synthetic_frame("binary"))
        cases = [
            ({"dataset_version_id": foreign, "target": "y"}, "dataset_version_id: version"),
            ({"dataset_version_id": version, "target": " "}, "target: name the label column"),
            ({"dataset_version_id": version, "target": "y", "time_column": "when"}, "time_column: 'when'"),
            ({"usecase_key": "no-such-case"}, "usecase_key: 'no-such-case'"),
        ]
        for extra, message in cases:
            with pytest.raises(InvalidInput, match=message):
                service.record_screening(session, store=runtime.store, project_id=project.id, user=owner,
                                         answers=ALL_YES, **extra)
        assert service.list_screenings(session, project_id=project.id) == []
        # A multiclass label: rows per class are counted for every class; a missing label column fails the check.
        made = service.record_screening(session, store=runtime.store, project_id=project.id, user=owner,
                                        answers=ALL_YES, dataset_version_id=version, target="y")
        assert set(made.readiness["rows_per_class"]) == {"low", "mid", "high"}
        absent = service.record_screening(session, store=runtime.store, project_id=project.id, user=owner,
                                          answers=ALL_YES, dataset_version_id=version, target="label")
        assert absent.decision == "no-go" and absent.readiness["ready"] is False
        assert session.get(type(project), project.id).screening_decision == "no-go"
