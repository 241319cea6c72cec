"""Text-file dialect detection: encoding (UTF-8, UTF-8 with BOM, CP949/EUC-KR, others), delimiter and header.

Pure functions over bytes and text; errors name the source, the line and what was expected.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from mlpilot.core.errors import N_, InvalidInput

BOM = b"\xef\xbb\xbf"
DELIMITERS = (",", "\t", ";", "|")
# CP949 is Microsoft's superset of EUC-KR: every EUC-KR file decodes as CP949, so one codec covers both.
KOREAN = "cp949"
ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-bom": "utf-8-sig", "utf8-bom": "utf-8-sig", "euc-kr": KOREAN,
                    "euckr": KOREAN, "euc_kr": KOREAN, "ms949": KOREAN, "uhc": KOREAN}


@dataclass(frozen=True)
class DecodedText:
    """Decoded text and the encoding it was read with (as the user would name it)."""

    text: str
    encoding: str


def decode_text(data: bytes, *, source: str, encoding: str = "auto", guess: bool = True) -> DecodedText:
    """Decode `data`; "auto" tries UTF-8 (with or without BOM), then CP949/EUC-KR, then a statistical guess.

    A file mixing UTF-8 and a legacy encoding is rejected with the first line of each kind. Without `guess`
    (uploads), a file that is neither UTF-8 nor CP949 is refused naming the first byte that is not UTF-8.
    """
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(f"{source}: this is not a text file (it contains NUL bytes); "
                           "choose the Parquet or Excel format if it is one.")
    wanted = (encoding or "auto").strip().lower()
    if wanted != "auto":
        codec = ENCODING_ALIASES.get(wanted, wanted)
        try:
            text = data.decode(codec)
        except LookupError:
            raise InvalidInput(f"{source}: unknown encoding {encoding!r}; use auto, utf-8, utf-8-sig or cp949.") \
                from None
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InvalidInput(
                f"{source} line {line}: byte 0x{data[exc.start]:02x} is not valid {encoding}; "
                "the file uses another encoding (try encoding=auto)."
            ) from None
        return DecodedText(text.removeprefix("\ufeff"), codec)
    if data.startswith(BOM):
        body = data[len(BOM):]
        try:
            return DecodedText(body.decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _mixed_or_wrong(body, source, exc) from None
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    has_utf8_multibyte = _first_utf8_multibyte_line(data)
    if has_utf8_multibyte is not None:
        raise _mixed_or_wrong(data, source, utf8_error) from None
    try:
        return DecodedText(data.decode(KOREAN), KOREAN)
    except UnicodeDecodeError:
        pass
    if not guess:
        at = utf8_error.start
        raise InvalidInput.translatable(
            N_("%(source)s is not UTF-8 text/CSV: byte 0x%(byte)02x at offset %(offset)d is not valid UTF-8 "
               "(line %(line)d), and the file is not CP949/EUC-KR either (tried UTF-8, UTF-8 with BOM and "
               "CP949/EUC-KR). Save the file as UTF-8 CSV and upload it again."),
            source=source, byte=data[at], offset=at, line=data.count(b"\n", 0, at) + 1)
    guessed = _guess(data)
    if guessed is None:
        line = data.count(b"\n", 0, utf8_error.start) + 1
        raise InvalidInput(
            f"{source} line {line}: the encoding cannot be recognised (not UTF-8 and not CP949/EUC-KR); "
            "set the encoding explicitly."
        )
    return guessed


def _mixed_or_wrong(data: bytes, source: str, exc: UnicodeDecodeError) -> InvalidInput:
    bad_line = data.count(b"\n", 0, exc.start) + 1
    good_line = _first_utf8_multibyte_line(data)
    if good_line is not None:
        return InvalidInput.translatable(
            N_("%(source)s mixes encodings: line %(good)d is UTF-8 but line %(bad)d is not (byte 0x%(byte)02x); "
               "re-export the whole file in one encoding."),
            source=source, good=good_line, bad=bad_line, byte=data[exc.start])
    return InvalidInput.translatable(N_("%(source)s line %(line)d: byte 0x%(byte)02x is not valid UTF-8."),
                                     source=source, line=bad_line, byte=data[exc.start])


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _first_utf8_multibyte_line(data: bytes) -> int | None:
    """Return the first line holding a non-ASCII UTF-8 character that decodes on its own, if any.

    Korean text in CP949 never forms valid 3-byte UTF-8 sequences as a whole line, so a line that decodes
    cleanly as UTF-8 with multi-byte characters is strong evidence of UTF-8.
    """
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not _UTF8_MULTIBYTE.search(line):
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return number
    return None


def _guess(data: bytes) -> DecodedText | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None:
        return None
    try:
        return DecodedText(data.decode(best.encoding), best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def sniff_delimiter(text: str, *, source: str) -> str:
    """Pick the delimiter (comma, tab, semicolon or pipe) that splits the first lines most consistently."""
    lines = [line for line in text[:200_000].splitlines()[:50] if line.strip()]
    if not lines:
        raise InvalidInput(f"{source} is empty: no lines of text.")
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _looks_numeric(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def sniff_header(text: str, delimiter: str) -> bool:
    """Guess whether the first line is a header: it is unless one of its fields is a number.

    A header with an empty or repeated name still counts as a header, so it is reported rather than read as data.
    """
    reader = csv.reader(io.StringIO(text[:100_000], newline=""), delimiter=delimiter)
    try:
        first = next((row for row in reader if row), [])
    except csv.Error:
        return True
    return not any(_looks_numeric(v) for v in first if v.strip())
