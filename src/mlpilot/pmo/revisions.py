"""Plan revisions: a per-project counter bumped whenever its tasks, dependencies or milestones change.

The forecast (10,000 draws) and the portfolio read cached results keyed on (project, revision, day) instead of
recomputing them on every page. The counter is maintained by session events, so every write path is covered,
including ones added later: ORM changes (after each flush) and ORM-enabled bulk INSERT/UPDATE/DELETE statements
(`session.execute(update(Task)...)`). A bulk statement whose project cannot be read from its parameters or its
WHERE clause bumps every project: always correct, at worst a cache miss. Writes through a bare Core connection
are not seen; the pmo domain does not make any.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Column, Connection, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList, ColumnElement

from mlpilot.pmo.models import Milestone, PlanRevision, Task, TaskDependency

WATCHED: tuple[type[Any], ...] = (Task, TaskDependency, Milestone)
# Projects whose plan this session changed in its current transaction: their results are not cached (a rollback
# would leave a cache entry under a revision number that another transaction will reuse).
DIRTY_KEY = "mlpilot_plan_dirty"
EVERY = -1


def revision(session: Session, project_id: int) -> int:
    """The project's plan revision token (0 until its plan first changes)."""
    return session.scalar(select(PlanRevision.revision).where(PlanRevision.project_id == project_id)) or 0


def revisions(session: Session, project_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(PlanRevision.project_id, PlanRevision.revision)
                           .where(PlanRevision.project_id.in_(project_ids)))
    return {pid: rev for pid, rev in rows}


def changed_here(session: Session, project_id: int) -> bool:
    """Whether this session changed the project's plan in its still-open transaction."""
    dirty: set[int] = session.info.get(DIRTY_KEY, set())
    return project_id in dirty or EVERY in dirty


def bump(connection: Connection, project_ids: set[int] | None) -> None:
    """Give the given projects (None: every project) a new revision.

    A revision is a random 31-bit token rather than a count: two databases (a test's, a restored copy) never
    share a (project id, revision) pair that a process-wide cache could confuse.
    """
    token = secrets.randbits(31) | 1
    table = PlanRevision.__table__
    stmt = update(PlanRevision).values(revision=token)
    if project_ids is not None:
        stmt = stmt.where(PlanRevision.project_id.in_(project_ids))
    connection.execute(stmt)
    if project_ids is None:
        return  # projects without a row stay at revision 0, which is never cached
    rows = connection.execute(select(table.c.project_id).where(table.c.project_id.in_(project_ids)))
    have: set[int] = set(rows.scalars())
    missing = [{"project_id": pid, "revision": token} for pid in sorted(project_ids - have)]
    if missing:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(table).values(missing).on_conflict_do_nothing(
            index_elements=["project_id"]))


def _mark(session: Session, project_ids: set[int] | None) -> None:
    session.info.setdefault(DIRTY_KEY, set()).update(project_ids if project_ids is not None else {EVERY})
    bump(session.connection(), project_ids)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    # After the flush foreign keys are set (a task added with its new project has its project_id now).
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WATCHED):
            pid = obj.__dict__.get("project_id")  # no lazy load: a deleted row may be expired
            if pid is None:
                _mark(session, None)
                return
            ids.add(pid)
    if ids:
        _mark(session, ids)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ not in WATCHED:
        return
    _mark(state.session, _statement_projects(state))


def _statement_projects(state: ORMExecuteState) -> set[int] | None:
    """The projects a bulk statement touches, when its parameters or WHERE clause name them; None if unknown."""
    params = state.parameters
    rows: list[Any] = list(params) if isinstance(params, list | tuple) else [params] if params else []
    if state.is_insert:
        found = {row.get("project_id") for row in rows}
        return None if not rows or None in found else {int(pid) for pid in found if pid is not None}
    where: ColumnElement[Any] | None = getattr(state.statement, "whereclause", None)
    table = state.bind_mapper.local_table if state.bind_mapper is not None else None
    # Only a top-level conjunct `<table>.project_id = <value>` bounds the rows to one project.
    conjuncts = list(where.clauses) if isinstance(where, BooleanClauseList) and where.operator is operators.and_ \
        else [where] if where is not None else []
    for node in conjuncts:
        if (isinstance(node, BinaryExpression) and node.operator is operators.eq
                and isinstance(node.left, Column) and node.left.name == "project_id" and node.left.table is table
                and isinstance(node.right, BindParameter) and isinstance(node.right.value, int)):
            return {node.right.value}
    return None


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(DIRTY_KEY, None)


event.listen(Session, "after_commit", _forget)
event.listen(Session, "after_soft_rollback", _forget)
