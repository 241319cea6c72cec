"""Where a scoring run reads and writes: typed source and output specs, one model per kind, keyed on `kind`.

The API, the pages and the CLI build these; the run's row stores them as JSON (`stored`) with their passwords
sealed, and the engine reads them back (`parse_source`, `parse_output`). A source's fields are the settings of
the connector of its kind (`datasets.connectors`), which checks them further when the run is created.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from mlpilot.core.errors import InvalidInput

URL_MAX = 2000
PATH_MAX = 4096
NAME_MAX = 300
QUERY_MAX = 20_000


class _Spec(BaseModel):
    # Unknown fields are refused by name, so a misspelt setting is never silently ignored.
    model_config = ConfigDict(extra="forbid", str_max_length=QUERY_MAX, frozen=True)


class SqlSource(_Spec):
    """Rows of a table or of a query in a database reachable with a SQLAlchemy URL."""

    kind: Literal["sql"]
    url: str = Field(min_length=1, max_length=URL_MAX, description="dialect+driver://user@host:port/database")
    table: str | None = Field(None, max_length=NAME_MAX, description="A table (schema.table); or give a query")
    query: str | None = Field(None, max_length=QUERY_MAX, description="A SELECT; add ORDER BY so a resumed run "
                                                                      "reads the rows in the same order")
    password: str | None = Field(None, max_length=500, description="Stored encrypted")
    watermark_column: str | None = Field(None, max_length=NAME_MAX)
    on_bad_rows: Literal["fail", "quarantine"] | None = None


class FileSource(_Spec):
    """Rows of a file, a folder or a glob (CSV/TSV, Parquet, Excel, JSON, JSON Lines; see `connectors.formats`)."""

    kind: Literal["file"]
    path: str = Field(min_length=1, max_length=PATH_MAX)
    format: str | None = Field(None, max_length=20, description="auto (by name) or a format")
    encoding: str | None = Field(None, max_length=40)
    delimiter: str | None = Field(None, max_length=10)
    header: bool | Literal["auto"] | None = None
    sheet: str | int | None = None
    header_row: int | None = Field(None, ge=1, le=1_000_000)
    stream_above_bytes: int | None = Field(None, ge=1, le=2**62)
    watermark_column: str | None = Field(None, max_length=NAME_MAX)
    on_bad_rows: Literal["fail", "quarantine"] | None = None


class SqlOutput(_Spec):
    """A table the predictions are appended to (created when missing), with per-chunk checkpoints beside it."""

    kind: Literal["sql"]
    url: str = Field(min_length=1, max_length=URL_MAX)
    table: str = Field(min_length=1, max_length=NAME_MAX, pattern=r"^[A-Za-z_][\w$]*$",
                       description="A plain table name (letters, digits, underscore)")
    password: str | None = Field(None, max_length=500, description="Stored encrypted")


class FileOutput(_Spec):
    """One CSV or Parquet file, written whole once every chunk is done."""

    kind: Literal["file"]
    path: str = Field(min_length=1, max_length=PATH_MAX, description="Ends in .csv or .parquet")
    format: Literal["csv", "parquet"] | None = None


ScoringSource = Annotated[SqlSource | FileSource, Field(discriminator="kind")]
ScoringOutput = Annotated[SqlOutput | FileOutput, Field(discriminator="kind")]
# mypy sees an Annotated union as a UnionType, which TypeAdapter's signature does not name (and its verdict has
# differed between cached and fresh runs), so the adapters are built from the annotations held as plain objects.
_SOURCE_TYPE: Any = ScoringSource
_OUTPUT_TYPE: Any = ScoringOutput
_SOURCE: TypeAdapter[SqlSource | FileSource] = TypeAdapter(_SOURCE_TYPE)
_OUTPUT: TypeAdapter[SqlOutput | FileOutput] = TypeAdapter(_OUTPUT_TYPE)


def _parse(adapter: TypeAdapter[Any], raw: object, side: str) -> Any:
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in (side, *error["loc"][1:]))
        if error["type"] == "union_tag_invalid":
            where, detail = f"{side}.kind", "must be 'sql' or 'file'"
        elif error["type"] == "union_tag_not_found":
            where, detail = f"{side}.kind", "is required ('sql' or 'file')"
        elif error["type"] == "extra_forbidden":
            detail = "is not a setting of this kind"
        elif error["type"] == "missing" or (error["type"] == "string_too_short"
                                            and (error.get("ctx") or {}).get("min_length") == 1):
            detail = "is required"
        else:
            detail = error["msg"][0].lower() + error["msg"][1:]
        raise InvalidInput(f"{where}: {detail}.") from None


def parse_source(raw: object) -> SqlSource | FileSource:
    """A source spec from plain data (a stored row, a form); InvalidInput names the field."""
    source: SqlSource | FileSource = _parse(_SOURCE, raw, "source")
    return source


def parse_output(raw: object) -> SqlOutput | FileOutput:
    """An output spec from plain data; InvalidInput names the field."""
    output: SqlOutput | FileOutput = _parse(_OUTPUT, raw, "output")
    return output


def stored(spec: BaseModel) -> dict[str, Any]:
    """The JSON a run's row keeps: the fields that were set (a connector tells an unset setting from a default)."""
    return spec.model_dump(mode="json", exclude_none=True)
