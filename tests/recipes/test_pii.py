"""Personal-data detection and masking: Korean RRNs (check digit), phones, e-mails, cards (Luhn), accounts."""

from __future__ import annotations

import polars as pl
import pytest

from mlpilot.recipes import pii


def rrn_with_check(first12: str) -> str:
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(d) * w for d, w in zip(first12, weights, strict=True))
    return first12 + str((11 - total % 11) % 10)


def test_check_digits() -> None:
    number = rrn_with_check("900101123456")
    assert pii.rrn_check_digit_valid(number)
    assert not pii.rrn_check_digit_valid(number[:12] + str((int(number[12]) + 1) % 10))
    assert pii.luhn_valid("4111111111111111") and not pii.luhn_valid("4111111111111112")


@pytest.mark.parametrize(("text", "masked", "kinds"), [
    ("주민번호 900101-1234567 입니다", "주민번호 900101-1****** 입니다", ["rrn"]),
    ("010-1234-5678", "010-****-5678", ["phone"]),
    ("01012345678", "010****5678", ["phone"]),
    ("02-123-4567로 연락", "02-***-4567로 연락", ["phone"]),
    ("031-1234-5678", "031-****-5678", ["phone"]),
    ("mail hong.gildong@example.co.kr now", "mail h***********@example.co.kr now", ["email"]),
    ("카드 4111-1111-1111-1111", "카드 4111-****-****-1111", ["card"]),
    ("4111 1111 1111 1111", "4111 **** **** 1111", ["card"]),
    ("국민 123456-12-123456", "국민 123456-**-***456", ["account"]),
    ("신한 110-123-456789", "신한 110-***-***789", ["account"]),
    ("농협 352-1234-5678-93", "농협 352-****-***8-93", ["account"]),
    ("a@b.io, 010-9876-5432", "a**@b.io, 010-****-5432", ["email", "phone"]),
])
def test_mask_text_keeps_a_readable_shape(text: str, masked: str, kinds: list[str]) -> None:
    assert pii.mask_text(text) == (masked, kinds)


@pytest.mark.parametrize("text", [
    "4111-1111-1111-1112",  # fails Luhn
    "991399-1234567",  # month 13 is not a birth date
    "2024-01-15",  # a date, not an account
    "order 12345",
    "9001011234567",  # 13 digits without a dash need a valid check digit
    "",
])
def test_lookalikes_are_left_alone(text: str) -> None:
    assert pii.mask_text(text) == (text, [])


def test_undashed_rrn_with_valid_check_digit() -> None:
    number = rrn_with_check("850315234567")
    assert pii.mask_text(f"id {number}") == ("id 8503152******", ["rrn"])


def test_detect_counts_values_per_column_and_mask_column() -> None:
    frame = pl.DataFrame({
        "memo": ["call 010-1111-2222", "call 010-1111-2222", "none", None, "x@y.com and 02-555-1234"],
        "note": ["plain", "text", "here", "ok", "fine"],
        "n": [1, 2, 3, 4, 5],
    })
    assert pii.detect_pii(frame) == {"memo": {"phone": 3, "email": 1}}
    assert pii.detect_pii(frame, kinds=["email"]) == {"memo": {"email": 1}}
    masked, counts = pii.mask_column(frame["memo"])
    assert counts == {"phone": 3, "email": 1}
    assert masked.to_list() == ["call 010-****-2222", "call 010-****-2222", "none", None, "x**@y.com and 02-***-1234"]
    with pytest.raises(ValueError, match="unknown PII kind"):
        pii.check_kinds(["passport"])
