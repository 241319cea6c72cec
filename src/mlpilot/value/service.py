"""Use cases of the value domain: build a project's value tree and costs, and compute actuals, ROI and payback.

Actuals are computed on every read from mlpilot's own evidence, counted per UTC day by the database (monitoring's
telemetry and feedback, scoring runs), and from business feeds read through connections; nothing is cached, so
the tree moves as soon as telemetry or feedback lands.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.connections import service as connections_service
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, MlpilotError, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import service as monitoring_service
from mlpilot.projects import service as projects_service
from mlpilot.scoring import service as scoring_service
from mlpilot.serving import service as serving_service
from mlpilot.value import compute
from mlpilot.value.compute import CostItem, Evidence
from mlpilot.value.feed import monthly_feed
from mlpilot.value.models import SERVICE_SOURCES, KpiSource, NodeKind, ValueCost, ValueNode
from mlpilot.value.schemas import CostCreate, KpiValue, NodeCreate, NodeUpdate, NodeValue, ValueSummary

KPI_FIELDS = ("baseline", "target", "value_per_unit", "source")
MAX_NODES = 200
MAX_MONTHS, MAX_DAYS = 60, 366


def list_nodes(session: Session, *, project_id: int) -> list[ValueNode]:
    """Return the project's value-tree nodes, parents before children in creation order."""
    stmt = select(ValueNode).where(ValueNode.project_id == project_id).order_by(ValueNode.position, ValueNode.id)
    return list(session.scalars(stmt))


def get_node(session: Session, *, project_id: int, node_id: int) -> ValueNode:
    node = session.get(ValueNode, node_id)
    if node is None or node.project_id != project_id:
        raise NotFound(f"Value-tree node {node_id} does not exist in project {project_id}.")
    return node


def _label(data: NodeCreate) -> str:
    return repr(data.name_en or data.name_ko or data.kind.value)


def _check_parent(session: Session, project_id: int, kind: NodeKind, parent_id: int | None, label: str) -> None:
    if kind == NodeKind.goal:
        if parent_id is not None:
            raise InvalidInput(f"Node {label}: parent_id must be empty, a goal is the root of the tree.")
        goals = session.scalar(select(func.count()).where(ValueNode.project_id == project_id,
                                                          ValueNode.kind == NodeKind.goal))
        if goals:
            raise InvalidInput(f"Node {label}: the project already has a goal; add drivers and KPIs under it.")
        return
    if parent_id is None:
        raise InvalidInput(f"Node {label}: parent_id is required, a {kind.value} hangs under a goal or a driver.")
    parent = get_node(session, project_id=project_id, node_id=parent_id)
    if parent.kind == NodeKind.kpi:
        raise InvalidInput(f"Node {label}: parent_id {parent_id} is a KPI; a KPI is a leaf, put the node under a "
                           "goal or a driver.")


def _check_kpi(session: Session, project_id: int, data: NodeCreate, label: str) -> None:
    if data.kind != NodeKind.kpi:
        extra = [f for f in (*KPI_FIELDS, "service_name", "connection_id") if getattr(data, f) is not None]
        if extra:
            raise InvalidInput(f"Node {label}: {', '.join(extra)} belong to KPI nodes only, not to a "
                               f"{data.kind.value}.")
        return
    missing = [f for f in KPI_FIELDS if getattr(data, f) is None]
    if not data.unit.strip():
        missing.append("unit")
    if missing:
        raise InvalidInput(f"KPI {label}: {', '.join(missing)} required.")
    if data.source in SERVICE_SOURCES:
        service = serving_service.find_service_by_name(session, name=data.service_name or "")
        if service is None or service.project_id != project_id:
            raise InvalidInput(f"KPI {label}: service_name {data.service_name!r} is not a service of project "
                               f"{project_id}; source {data.source.value} reads a service's evidence.")
    if data.source == KpiSource.feed:
        if data.connection_id is None or not data.feed_month_column or not data.feed_value_column:
            raise InvalidInput(f"KPI {label}: a feed needs connection_id, feed_month_column and feed_value_column.")
        connection = connections_service.get_connection(session, connection_id=data.connection_id)
        if connection.project_id != project_id:
            raise InvalidInput(f"KPI {label}: connection_id {data.connection_id} is not a connection of project "
                               f"{project_id}.")


def create_node(session: Session, *, project_id: int, user: User, data: NodeCreate,
                runtime: Runtime | None = None) -> ValueNode:
    """Add a goal, driver or KPI; a KPI fed by a connection has its feed read and checked first (with `runtime`)."""
    label = _label(data)
    if not (data.name_ko.strip() or data.name_en.strip()):
        raise InvalidInput("Node: name_ko or name_en is required (both are best, the page shows the user's language).")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        count = session.scalar(select(func.count()).where(ValueNode.project_id == project_id)) or 0
        if count >= MAX_NODES:
            raise InvalidInput(f"The value tree already has {MAX_NODES} nodes, the most one tree may hold.")
        _check_parent(session, project_id, data.kind, data.parent_id, label)
        _check_kpi(session, project_id, data, label)
        if data.source == KpiSource.feed and runtime is not None and data.connection_id is not None:
            _read_feed(session, runtime, data.connection_id, data.feed_month_column or "",
                       data.feed_value_column or "")
        name_ko, name_en = data.name_ko.strip() or data.name_en.strip(), data.name_en.strip() or data.name_ko.strip()
        node = ValueNode(project_id=project_id, parent_id=data.parent_id, kind=data.kind, name_ko=name_ko,
                         name_en=name_en, position=count + 1, unit=data.unit.strip(), currency=data.currency,
                         direction=data.direction, **{f: getattr(data, f) for f in (
                             "baseline", "target", "value_per_unit", "source", "service_name", "connection_id",
                             "feed_month_column", "feed_value_column")})
        session.add(node)
        session.flush()
    return node


def _ancestors(session: Session, project_id: int, node_id: int | None) -> list[int]:
    seen: list[int] = []
    while node_id is not None and node_id not in seen and len(seen) <= MAX_NODES:
        seen.append(node_id)
        node_id = get_node(session, project_id=project_id, node_id=node_id).parent_id
    return seen


def update_node(session: Session, *, project_id: int, node_id: int, user: User, data: NodeUpdate) -> ValueNode:
    """Rename, move (no cycles, no node under a KPI) or change a KPI's baseline, target or money value."""
    changes = data.model_dump(exclude_unset=True)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        node = get_node(session, project_id=project_id, node_id=node_id)
        label = repr(node.name_en)
        if "parent_id" in changes and changes["parent_id"] != node.parent_id:
            parent_id = changes["parent_id"]
            if node.kind == NodeKind.goal or parent_id is None:
                raise InvalidInput(f"Node {label}: parent_id cannot change on a goal, nor be emptied on a "
                                   f"{node.kind}.")
            if node_id in _ancestors(session, project_id, parent_id):
                raise InvalidInput(f"Node {label}: parent_id {parent_id} is the node itself or under it; the move "
                                   "would make a cycle.")
            _check_parent(session, project_id, NodeKind(node.kind), parent_id, label)
            node.parent_id = parent_id
        for field in ("baseline", "target", "value_per_unit"):
            if field in changes:
                if node.kind != NodeKind.kpi or changes[field] is None:
                    raise InvalidInput(f"Node {label}: {field} is a number set on KPI nodes only.")
                setattr(node, field, changes[field])
        for field in ("name_ko", "name_en"):
            if changes.get(field):
                setattr(node, field, changes[field].strip())
    return node


def delete_node(session: Session, *, project_id: int, node_id: int, user: User) -> None:
    """Remove a node and everything under it."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        doomed = {node_id}
        nodes = list_nodes(session, project_id=project_id)
        get_node(session, project_id=project_id, node_id=node_id)
        while True:
            more = {n.id for n in nodes if n.parent_id in doomed} - doomed
            if not more:
                break
            doomed |= more
        for node in sorted((n for n in nodes if n.id in doomed), key=lambda n: -n.id):
            session.delete(node)


def list_costs(session: Session, *, project_id: int) -> list[ValueCost]:
    stmt = select(ValueCost).where(ValueCost.project_id == project_id).order_by(ValueCost.start_month, ValueCost.id)
    return list(session.scalars(stmt))


def create_cost(session: Session, *, project_id: int, user: User, data: CostCreate) -> ValueCost:
    """Record a one-off or monthly cost of the project (for ROI and payback)."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        cost = ValueCost(project_id=project_id, name=data.name.strip(), kind=data.kind, amount=data.amount,
                         currency=data.currency, start_month=compute.month_start(data.start_month))
        session.add(cost)
        session.flush()
    return cost


def delete_cost(session: Session, *, project_id: int, cost_id: int, user: User) -> None:
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        cost = session.get(ValueCost, cost_id)
        if cost is None or cost.project_id != project_id:
            raise NotFound(f"Cost {cost_id} does not exist in project {project_id}.")
        session.delete(cost)


def _read_feed(session: Session, runtime: Runtime, connection_id: int, month_column: str,
               value_column: str) -> dict[str, float]:
    connector = connections_service.open_connector(session, runtime=runtime, connection_id=connection_id)
    return monthly_feed(connector.read(chunk_rows=5_000), month_column=month_column, value_column=value_column)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


Daily = dict[tuple[str, str], Evidence]


def _evidence(session: Session, project_id: int, kpis: list[ValueNode], first_month: dt.date, first_day: dt.date,
              until: dt.date) -> tuple[Daily, Daily]:
    """Evidence per (source, service name or "") by month and by day: a few grouped queries for all KPIs."""
    names = sorted({k.service_name for k in kpis if k.source in SERVICE_SOURCES and k.service_name})
    monthly: dict[tuple[str, str], dict[str, tuple[float, float]]] = defaultdict(dict)
    daily: dict[tuple[str, str], dict[str, tuple[float, float]]] = defaultdict(dict)
    for found, by_month, since in ((monthly, True, first_month), (daily, False, first_day)):
        for c in monitoring_service.rollup_counts(session, service_names=names, first_day=since, last_day=until,
                                                  by_month=by_month, refresh=by_month):  # refresh once, first
            if c.requests:
                found[(KpiSource.requests, c.service)][c.period] = (float(c.requests), 1.0)
                found[(KpiSource.predictions, c.service)][c.period] = (float(c.rows), 1.0)
            if c.feedback:
                found[(KpiSource.live_accuracy, c.service)][c.period] = (float(c.correct), float(c.feedback))
    if any(k.source in (KpiSource.scoring_runs, KpiSource.scoring_rows) for k in kpis):
        start, end = _day_start(min(first_month, first_day)), _day_start(until + dt.timedelta(days=1))
        for s in scoring_service.daily_scoring(session, project_id=project_id, since=start, until=end):
            for found in (monthly, daily):  # series() adds the days up into months
                found[(KpiSource.scoring_runs, "")][s.day] = (float(s.runs), 1.0)
                found[(KpiSource.scoring_rows, "")][s.day] = (float(s.rows), 1.0)

    def typed(found: dict[tuple[str, str], dict[str, tuple[float, float]]]) -> Daily:
        return {key: Evidence(ratio=key[0] == KpiSource.live_accuracy, by_period=value)
                for key, value in found.items()}

    return typed(monthly), typed(daily)


def _kpi_evidence(session: Session, runtime: Runtime | None, kpi: ValueNode, services: set[str],
                  daily: Daily) -> tuple[Evidence, str | None]:
    empty = Evidence(ratio=False, by_period={})
    source = KpiSource(kpi.source or KpiSource.feed)
    if source == KpiSource.feed:
        if runtime is None:
            return empty, "The feed is read by the server; open the value page or the API to see it."
        if kpi.connection_id is None:
            return empty, "The feed's connection was deleted; choose another connection."
        try:
            months = _read_feed(session, runtime, kpi.connection_id, kpi.feed_month_column or "",
                                kpi.feed_value_column or "")
        except MlpilotError as exc:
            return empty, exc.detail
        return Evidence(ratio=False, by_period={m: (v, 1.0) for m, v in months.items()}), None
    if source in SERVICE_SOURCES:
        if kpi.service_name not in services:
            return empty, f"Service {kpi.service_name!r} is no longer a service of this project."
        return daily.get((source, kpi.service_name), Evidence(ratio=source == KpiSource.live_accuracy,
                                                              by_period={})), None
    return daily.get((source, ""), empty), None


def _tree(nodes: list[ValueNode], benefit: dict[int, float]) -> list[NodeValue]:
    children: dict[int | None, list[ValueNode]] = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)
    ordered: list[NodeValue] = []

    def walk(node: ValueNode, depth: int) -> float:
        entry = NodeValue(node_id=node.id, parent_id=node.parent_id, kind=NodeKind(node.kind), name_ko=node.name_ko,
                          name_en=node.name_en, depth=depth, benefit=0.0)
        ordered.append(entry)
        total = benefit.get(node.id, 0.0) + sum(walk(child, depth + 1) for child in children[node.id])
        entry.benefit = round(total, 2)
        return total

    for root in children[None]:
        walk(root, 0)
    return ordered


def value_summary(session: Session, project_id: int, *, runtime: Runtime | None = None, months: int = 12,
                  days: int = 31, today: dt.date | None = None) -> ValueSummary:
    """The value tree with each KPI's actuals per month and per day, its benefit, and the project's ROI and payback.

    `months` calendar months up to the current one, and `days` days up to today (UTC). Business feeds are read
    only with `runtime` (the server's); without it their KPIs carry an error and no actuals.
    """
    if not 1 <= months <= MAX_MONTHS or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"months must be 1–{MAX_MONTHS} and days 1–{MAX_DAYS}; got {months} and {days}.")
    projects_service.get_project(session, project_id=project_id)
    today = today or utcnow().date()
    first_month = compute.add_months(compute.month_start(today), 1 - months)
    month_keys = compute.month_keys(first_month, months)
    first_day = today - dt.timedelta(days=days - 1)
    day_keys = compute.day_keys(first_day, today)
    nodes = list_nodes(session, project_id=project_id)
    kpis = [n for n in nodes if n.kind == NodeKind.kpi]
    services = {s.name for s in serving_service.list_services(session, project_id=project_id)}
    by_month, by_day = _evidence(session, project_id, kpis, first_month, first_day, today)
    costs = list_costs(session, project_id=project_id)
    currency = (costs[0].currency if costs else kpis[0].currency if kpis else "KRW")
    values, benefit_by_node, benefit_by_month = [], {}, defaultdict[str, float](float)
    for kpi in kpis:
        evidence, error = _kpi_evidence(session, runtime, kpi, services, by_month)
        monthly = compute.series(evidence, month_keys)
        days_evidence = evidence if kpi.source == KpiSource.feed else _kpi_evidence(
            session, runtime, kpi, services, by_day)[0]
        gains = compute.monthly_benefit(monthly, baseline=kpi.baseline or 0.0, value_per_unit=kpi.value_per_unit or 0.0,
                                        higher_is_better=kpi.direction == "higher")
        if kpi.currency != currency and gains:
            error = error or f"Money is in {kpi.currency}, the project's ROI in {currency}: left out of ROI."
            gains = {}
        for month, gain in gains.items():
            benefit_by_month[month] += gain
        benefit_by_node[kpi.id] = sum(gains.values())
        latest = next((p.actual for p in reversed(monthly) if p.actual is not None), None)
        values.append(KpiValue(
            node_id=kpi.id, name_ko=kpi.name_ko, name_en=kpi.name_en, unit=kpi.unit,
            source=KpiSource(kpi.source or KpiSource.feed), direction=kpi.direction,
            baseline=kpi.baseline or 0.0, target=kpi.target or 0.0,
            value_per_unit=kpi.value_per_unit or 0.0, currency=kpi.currency, actual=latest,
            progress=compute.progress(latest, kpi.baseline or 0.0, kpi.target or 0.0),
            benefit=round(benefit_by_node[kpi.id], 2), monthly=monthly,
            daily=[] if kpi.source == KpiSource.feed else compute.series(days_evidence, day_keys), error=error))
    items = [CostItem(kind=str(c.kind), amount=c.amount, start=c.start_month) for c in costs if c.currency == currency]
    roi = compute.compute_roi(benefit_by_month, items, month_keys, currency=currency)
    return ValueSummary(project_id=project_id, first_month=month_keys[0], last_month=month_keys[-1],
                        nodes=_tree(nodes, benefit_by_node), kpis=values, roi=roi)

