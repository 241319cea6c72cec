"""Outcomes uploaded as a file: parse a CSV of (request_id, actual) into feedback items, naming line and field.

The file is read whole and checked before anything is stored: one bad line refuses the upload, so a user fixes
the file and sends it again without duplicates. UTF-8 (with or without BOM) and CP949/EUC-KR are read, as Korean
Excel writes them. Joining to the prediction log is `service.record_feedback`'s job.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

from mlpilot.core.errors import N_, InvalidInput
from mlpilot.datasets.connectors.encoding import decode_text

MAX_BYTES = 5 << 20
MAX_ROWS = 100_000
MAX_CHARS = 200
COLUMNS = ("request_id", "actual")


@dataclass(frozen=True)
class ParsedOutcomes:
    """Feedback items ready for `record_feedback`, and the encoding the file was read with."""

    items: list[dict[str, Any]]
    encoding: str


def parse_outcomes(data: bytes, *, source: str, task: str) -> ParsedOutcomes:
    """Parse a CSV with the columns request_id and actual; regression outcomes must be numbers."""
    if not data.strip():
        raise InvalidInput.translatable(N_("%(source)s is empty; it needs a header line request_id,actual and one "
                                           "line per outcome."), source=source)
    if len(data) > MAX_BYTES:
        raise InvalidInput.translatable(N_("%(source)s is larger than %(max)d MiB; send the outcomes in parts."),
                                        source=source, max=MAX_BYTES >> 20)
    text = decode_text(data, source=source, guess=False)
    reader = csv.reader(io.StringIO(text.text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise InvalidInput(f"{source} line 1: {exc}.") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInput.translatable(
            N_("%(source)s line 1: the header needs the columns request_id and actual; missing %(missing)s, "
               "found %(found)s."), source=source, missing=", ".join(missing),
            found=", ".join(repr(h) for h in header[:10]) or "—")
    id_at, actual_at = header.index("request_id"), header.index("actual")
    items: list[dict[str, Any]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(items) >= MAX_ROWS:
                raise InvalidInput.translatable(N_("%(source)s has more than %(max)d outcomes; send them in parts."),
                                                source=source, max=MAX_ROWS)
            request_id = row[id_at].strip() if id_at < len(row) else ""
            actual = row[actual_at].strip() if actual_at < len(row) else ""
            for field, cell in (("request_id", request_id), ("actual", actual)):
                if not cell:
                    raise InvalidInput.translatable(
                        N_("%(source)s line %(line)d, field %(field)s: the value is empty."),
                        source=source, line=line, field=field)
                if len(cell) > MAX_CHARS:
                    raise InvalidInput.translatable(
                        N_("%(source)s line %(line)d, field %(field)s: the value is longer than %(max)d characters."),
                        source=source, line=line, field=field, max=MAX_CHARS)
            value: Any = actual
            if task == "regression":
                try:
                    value = float(actual.replace(",", ""))
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    raise InvalidInput.translatable(
                        N_("%(source)s line %(line)d, field actual: a regression service needs a number, "
                           "not %(value)s."), source=source, line=line, value=repr(actual[:40]))
            items.append({"request_id": request_id, "actual": value})
    except csv.Error as exc:
        raise InvalidInput(f"{source} line {reader.line_num}: {exc}.") from None
    if not items:
        raise InvalidInput.translatable(N_("%(source)s has a header but no outcomes."), source=source)
    return ParsedOutcomes(items=items, encoding=text.encoding)

