"""The six screening questions and the pure go/no-go scoring of a set of answers (no database).

Rule: each answer scores yes=2, partly=1, no=0 (12 at most). The decision is "go" when the score is
at least 8 of 12 AND neither "is it a real business problem?" nor "does it need ML?" is answered "no"
AND, when a data readiness check was run, none of its checks failed.

The priority matrix places a candidate by
- value (0–100): the answers to "important", "real business problem" and "needs ML", in per cent of their maximum;
- feasibility (0–100): the answers to "unused data", "one business unit" and "operable" in per cent — averaged
  half and half with the readiness score when the data was checked — minus DIFFICULTY_PENALTY of the use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlpilot.core.errors import InvalidInput


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    text_ko: str

    def localized_text(self, locale: str) -> str:
        return self.text_ko if locale == "ko" else self.text


QUESTIONS: tuple[Question, ...] = (
    Question("important", "Is the problem important enough to win the business's attention?",
             "비즈니스의 관심을 끌 만큼 중요한 문제입니까?"),
    Question("real_problem", "Is it a real business problem (not a technology looking for one)?",
             "실제 비즈니스 문제입니까 (기술을 위한 문제가 아닌)?"),
    Question("unused_data", "Is there plenty of data that is not used yet?",
             "아직 활용되지 않은 데이터가 충분합니까?"),
    Question("needs_ml", "Does it need machine learning (rules or reports would not do)?",
             "머신러닝이 필요합니까 (규칙이나 보고서로는 부족합니까)?"),
    Question("single_unit", "Can one business unit carry the project?",
             "하나의 사업부가 프로젝트를 감당할 수 있습니까?"),
    Question("operable", "Can the result be put into operation later?",
             "결과를 나중에 실제 운영에 적용할 수 있습니까?"),
)
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)
ANSWER_SCORES = {"yes": 2, "partly": 1, "no": 0}
MAX_SCORE = 2 * len(QUESTIONS)
GO_THRESHOLD = 8
# A "no" to either of these stops the project whatever the score.
BLOCKING_QUESTIONS = ("real_problem", "needs_ml")
GO, NO_GO = "go", "no-go"


VALUE_QUESTIONS = ("important", "real_problem", "needs_ml")
FEASIBILITY_QUESTIONS = ("unused_data", "single_unit", "operable")
DIFFICULTY_PENALTY = {"easy": 0, "medium": 10, "hard": 20}
READINESS_BLOCK = "data_readiness"
# The matrix's quadrants, by value then feasibility at or above MATRIX_SPLIT.
MATRIX_SPLIT = 50
QUADRANTS = {(True, True): "do-first", (True, False): "prepare-data", (False, True): "quick-win",
             (False, False): "drop"}


@dataclass(frozen=True)
class ScreeningResult:
    answers: dict[str, dict[str, str]]
    score: int
    max_score: int
    decision: str
    blocked_by: tuple[str, ...]
    value_score: int = 0
    feasibility_score: int = 0


def normalize_answers(answers: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Return answers as {key: {"answer", "note"}} in question order; raise InvalidInput naming the question."""
    if not isinstance(answers, dict):
        raise InvalidInput("answers must be an object keyed by question: " + ", ".join(QUESTION_KEYS) + ".")
    unknown = [key for key in answers if key not in QUESTION_KEYS]
    if unknown:
        raise InvalidInput(f"Unknown screening question {unknown[0]!r}; expected one of: {', '.join(QUESTION_KEYS)}.")
    missing = [key for key in QUESTION_KEYS if key not in answers]
    if missing:
        raise InvalidInput(f"Screening question {missing[0]!r} is not answered; answer all six "
                           f"({', '.join(QUESTION_KEYS)}) with yes, partly or no.")
    normalized: dict[str, dict[str, str]] = {}
    for key in QUESTION_KEYS:
        raw = answers[key]
        value: object
        if isinstance(raw, str):
            value, note = raw, ""
        elif isinstance(raw, dict):
            value, note = raw.get("answer"), raw.get("note") or ""
        else:
            value, note = raw, ""
        if not isinstance(value, str) or value.strip().lower() not in ANSWER_SCORES:
            raise InvalidInput(f"Screening question {key!r}: answer {value!r} is invalid; expected yes, partly or no.")
        if not isinstance(note, str) or len(note) > 1000:
            raise InvalidInput(f"Screening question {key!r}: the note must be text of at most 1000 characters.")
        normalized[key] = {"answer": value.strip().lower(), "note": note.strip()}
    return normalized


def score_answers(answers: dict[str, Any]) -> ScreeningResult:
    """Validate and score answers, and decide go/no-go by the rule in this module's docstring."""
    normalized = normalize_answers(answers)
    score = sum(ANSWER_SCORES[a["answer"]] for a in normalized.values())
    blocked = tuple(key for key in BLOCKING_QUESTIONS if normalized[key]["answer"] == "no")
    decision = GO if score >= GO_THRESHOLD and not blocked else NO_GO
    return ScreeningResult(answers=normalized, score=score, max_score=MAX_SCORE, decision=decision, blocked_by=blocked)


def _share(answers: dict[str, dict[str, str]], keys: tuple[str, ...]) -> float:
    return sum(ANSWER_SCORES[answers[k]["answer"]] for k in keys) / (2 * len(keys))


def assess(result: ScreeningResult, *, readiness_score: int | None = None, readiness_failed: bool = False,
           difficulty: str | None = None) -> ScreeningResult:
    """Fold the data readiness and the use case's difficulty into scored answers (module docstring)."""
    value = round(100 * _share(result.answers, VALUE_QUESTIONS))
    feasible = _share(result.answers, FEASIBILITY_QUESTIONS)
    if readiness_score is not None:
        feasible = (feasible + readiness_score / 100) / 2
    feasibility = max(0, min(100, round(100 * feasible) - DIFFICULTY_PENALTY.get(difficulty or "", 0)))
    blocked = result.blocked_by + ((READINESS_BLOCK,) if readiness_failed else ())
    decision = GO if result.score >= GO_THRESHOLD and not blocked else NO_GO
    return ScreeningResult(answers=result.answers, score=result.score, max_score=result.max_score, decision=decision,
                           blocked_by=blocked, value_score=value, feasibility_score=feasibility)


def quadrant(value_score: int, feasibility_score: int) -> str:
    """The matrix quadrant of a candidate: do-first, prepare-data, quick-win or drop."""
    return QUADRANTS[(value_score >= MATRIX_SPLIT, feasibility_score >= MATRIX_SPLIT)]
