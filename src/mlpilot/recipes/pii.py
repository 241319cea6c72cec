"""Detecting and masking personal data in text: Korean resident registration numbers, Korean phone numbers,
e-mail addresses, card numbers (Luhn) and Korean bank account numbers. Masks keep a readable shape
(900101-1******, 010-****-5678). Pure: strings and Polars frames in, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

KINDS = ("rrn", "phone", "email", "card", "account")
KIND_LABELS = {"rrn": "resident registration number", "phone": "phone number", "email": "e-mail address",
               "card": "card number", "account": "bank account number"}

_RRN = re.compile(r"(?<![\d-])(\d{2})(\d{2})(\d{2})(-?)([1-8])(\d{6})(?![\d-])")
_PHONE = re.compile(r"(?<![\d-])(01[016789]|02|0[3-6][1-5]|070|050\d)([- .]?)(\d{3,4})\2(\d{4})(?![\d-])")
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b")
_CARD = re.compile(r"(?<![\d-])(\d{4}(?:[- ]?\d{4}){2}[- ]?\d{1,7})(?![\d-])")
# Korean banks print account numbers as 2-4 dash-separated digit groups (e.g. 110-123-456789,
# 1002-123-456789, 123456-12-123456, 352-1234-5678-93); undashed digit runs are too ambiguous to flag.
_ACCOUNT = re.compile(r"(?<![\d-])(\d{2,6}(?:-\d{2,6}){1,3})(?![\d-])")
_ACCOUNT_DIGITS = (10, 14)
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    masked: str


def luhn_valid(digits: str) -> bool:
    """Return whether a digit string passes the Luhn check (card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def rrn_check_digit_valid(digits: str) -> bool:
    """Return whether a 13-digit resident registration number has a correct check digit.

    Numbers issued since October 2020 no longer carry a check digit, so a dashed number with a valid
    birth date is accepted without it; the check is required for undashed 13-digit runs.
    """
    total = sum(int(d) * w for d, w in zip(digits[:12], _RRN_WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == int(digits[12])


def _rrn_birth_date_valid(yy: str, mm: str, dd: str, gender: str) -> bool:
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}[gender]
    try:
        dt.date(century + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    return True


def _mask_digits(text: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits with '*' except the first `keep_head` and last `keep_tail` digits; keep separators."""
    total = sum(c.isdigit() for c in text)
    out, seen = [], 0
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep_head or seen > total - keep_tail else "*")
        else:
            out.append(c)
    return "".join(out)


def _candidates(text: str, kinds: Iterable[str]) -> list[Match]:
    wanted = set(kinds)
    found: list[Match] = []
    if "rrn" in wanted:
        for m in _RRN.finditer(text):
            yy, mm, dd, dash, gender, rest = m.groups()
            digits = yy + mm + dd + gender + rest
            if not _rrn_birth_date_valid(yy, mm, dd, gender):
                continue
            if not dash and not rrn_check_digit_valid(digits):
                continue
            found.append(Match("rrn", m.start(), m.end(), f"{yy}{mm}{dd}{dash}{gender}******"))
    if "card" in wanted:
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(1))
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(Match("card", m.start(), m.end(), _mask_digits(m.group(1), 4, 4)))
    if "phone" in wanted:
        for m in _PHONE.finditer(text):
            area, sep, middle, last = m.groups()
            found.append(Match("phone", m.start(), m.end(), f"{area}{sep}{'*' * len(middle)}{sep}{last}"))
    if "email" in wanted:
        for m in _EMAIL.finditer(text):
            local, domain = m.groups()
            found.append(Match("email", m.start(), m.end(), f"{local[0]}{'*' * max(len(local) - 1, 2)}@{domain}"))
    if "account" in wanted:
        for m in _ACCOUNT.finditer(text):
            digits = re.sub(r"\D", "", m.group(1))
            if _ACCOUNT_DIGITS[0] <= len(digits) <= _ACCOUNT_DIGITS[1]:
                head = len(m.group(1).split("-")[0])
                found.append(Match("account", m.start(), m.end(), _mask_digits(m.group(1), head, 3)))
    return found


def find_pii(text: str, kinds: Iterable[str] = KINDS) -> list[Match]:
    """Return the non-overlapping personal-data matches in `text`, earlier kinds in KINDS winning ties."""
    order = {k: i for i, k in enumerate(KINDS)}
    chosen: list[Match] = []
    for match in sorted(_candidates(text, kinds), key=lambda m: (order[m.kind], m.start)):
        if all(match.end <= c.start or match.start >= c.end for c in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)


def mask_text(text: str, kinds: Iterable[str] = KINDS) -> tuple[str, list[str]]:
    """Return `text` with personal data masked, and the kinds found (one entry per match)."""
    matches = find_pii(text, kinds)
    if not matches:
        return text, []
    out, last = [], 0
    for m in matches:
        out.append(text[last:m.start])
        out.append(m.masked)
        last = m.end
    out.append(text[last:])
    return "".join(out), [m.kind for m in matches]


def check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """Return the requested kinds in canonical order, or raise ValueError naming an unknown one."""
    if kinds is None:
        return KINDS
    chosen = tuple(kinds)
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown PII kind(s) {', '.join(map(repr, unknown))}; use {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in chosen)


def _scan_unique(series: pl.Series, kinds: tuple[str, ...]) -> dict[str, tuple[str, list[str]]]:
    # Each distinct value is scanned once: coded and repeated values are common in business tables.
    return {v: mask_text(v, kinds) for v in series.drop_nulls().unique().to_list()}


def detect_pii(frame: pl.DataFrame, *, columns: Iterable[str] | None = None,
               kinds: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """Count, per text column, the values containing each kind of personal data (columns with none omitted)."""
    chosen = check_kinds(kinds)
    names = list(columns) if columns is not None else [n for n, t in frame.schema.items() if t == pl.String]
    report: dict[str, dict[str, int]] = {}
    for name in names:
        series = frame.get_column(name).cast(pl.String)
        scanned = _scan_unique(series, chosen)
        counts: dict[str, int] = {}
        value_counts = series.drop_nulls().value_counts()
        for value, count in value_counts.iter_rows():
            for kind in set(scanned[value][1]):
                counts[kind] = counts.get(kind, 0) + count
        if counts:
            report[name] = {k: counts[k] for k in KINDS if k in counts}
    return report


def mask_column(series: pl.Series, kinds: Iterable[str] | None = None) -> tuple[pl.Series, dict[str, int]]:
    """Return the series with personal data masked and the count of values masked per kind."""
    chosen = check_kinds(kinds)
    text = series.cast(pl.String)
    scanned = _scan_unique(text, chosen)
    counts: dict[str, int] = {}
    for value, count in text.drop_nulls().value_counts().iter_rows():
        for kind in set(scanned[value][1]):
            counts[kind] = counts.get(kind, 0) + count
    mapping = {k: v[0] for k, v in scanned.items() if v[1]}
    if not mapping:
        return text, {}
    masked = text.replace(list(mapping), list(mapping.values()))
    return masked, {k: counts[k] for k in KINDS if k in counts}
