"""Document templates: which sections a kind of document holds, with its title and headings in both languages.

The defaults are JSON files in the package (`doc_templates/<kind>.json`). An admin replaces one by uploading a
file, kept in the artifact store under `document-templates/<kind>.json`; deleting it restores the default. A
template is checked before it is kept: unknown fields, unknown section keys and unknown placeholders are refused
with a message naming each.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlpilot.core.errors import InvalidInput
from mlpilot.core.storage import ArtifactStore
from mlpilot.reports.sections import SECTIONS

KINDS = ("plan", "status", "interim", "final")
PLACEHOLDERS = ("project", "client", "date", "stage", "usecase", "percent_done", "best_model", "best_metric",
                "p50", "p85", "open_risks")
DEFAULT_DIR = Path(__file__).resolve().parent / "doc_templates"
MAX_TEMPLATE_BYTES = 256 * 1024


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: str = Field(max_length=2000)
    ko: str = Field(max_length=2000)


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=60)
    heading: Text
    intro: Text | None = None
    optional: bool = False


class DocumentTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    title: Text
    subtitle: Text | None = None
    sections: list[SectionSpec] = Field(min_length=1, max_length=60)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"Document kind {kind!r} is not supported; expected one of: {', '.join(KINDS)}.")
    return kind


def _placeholders(text: str, where: str) -> list[str]:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise InvalidInput(f"Template {where}: {exc} (write a literal brace as {{{{ or }}}}).") from exc
    return [f"{{{n}}} in {where}" for n in names if n not in PLACEHOLDERS]


def parse_template(raw: bytes | str, *, kind: str) -> DocumentTemplate:
    """Parse and check a template file; the error names every unknown field, section and placeholder."""
    _check_kind(kind)
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise InvalidInput(f"The template is larger than {MAX_TEMPLATE_BYTES // 1024} KiB.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The template is not valid JSON: {exc}.") from exc
    try:
        template = DocumentTemplate.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:10])
        raise InvalidInput(f"The template does not have the expected shape: {problems}.") from exc
    if template.kind != kind:
        raise InvalidInput(f"The template is for {template.kind!r} documents, not {kind!r}.")
    unknown: list[str] = []
    texts: list[tuple[str, Text | None]] = [("title", template.title), ("subtitle", template.subtitle)]
    for i, spec in enumerate(template.sections):
        texts += [(f"sections[{i}].heading", spec.heading), (f"sections[{i}].intro", spec.intro)]
    for where, text in texts:
        if text is not None:
            unknown += _placeholders(text.en, f"{where}.en") + _placeholders(text.ko, f"{where}.ko")
    if unknown:
        raise InvalidInput(f"The template uses unknown placeholders: {', '.join(unknown)}. "
                           f"Known placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}.")
    missing = [s.key for s in template.sections if s.key not in SECTIONS and not s.optional]
    if missing:
        raise InvalidInput(f"The template names unknown sections: {', '.join(missing)}. "
                           f"Known sections: {', '.join(sorted(SECTIONS))} (mark a section \"optional\": true "
                           "to skip it while it does not exist).")
    return template


def _override_key(kind: str) -> str:
    return f"document-templates/{kind}.json"


def template_source(store: ArtifactStore | None, kind: str) -> tuple[bytes, bool]:
    """The template file of `kind` and whether it is an admin's replacement (False: the packaged default)."""
    _check_kind(kind)
    if store is not None and store.exists(_override_key(kind)):
        return store.get_bytes(_override_key(kind)), True
    return (DEFAULT_DIR / f"{kind}.json").read_bytes(), False


def load_template(store: ArtifactStore | None, kind: str) -> DocumentTemplate:
    return parse_template(template_source(store, kind)[0], kind=kind)


def replace_template(store: ArtifactStore, kind: str, raw: bytes) -> DocumentTemplate:
    """Check and keep an admin's template for `kind` (nothing is kept when it is refused)."""
    template = parse_template(raw, kind=kind)
    store.put_bytes(_override_key(kind), raw)
    return template


def reset_template(store: ArtifactStore, kind: str) -> None:
    _check_kind(kind)
    store.delete(_override_key(kind))


def fill(text: str, values: dict[str, str]) -> str:
    return text.format(**values)
