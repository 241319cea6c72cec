"""Words the UI translates at run time from data (roles, states, tasks), marked here for extraction."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate yet"
    return message


DYNAMIC_WORDS = (
    N_("admin"), N_("member"), N_("viewer"), N_("client"),
    N_("queued"), N_("running"), N_("succeeded"), N_("failed"),
    N_("auto"), N_("binary"), N_("multiclass"), N_("regression"),
    N_("pending"), N_("delivered"), N_("error"), N_("warning"), N_("info"), N_("forecast"), N_("classification"),
    # Column kinds of a profile.
    N_("constant"), N_("boolean"), N_("datetime"), N_("id"), N_("categorical"), N_("numeric"), N_("date_text"),
    N_("numeric_text"), N_("mixed"), N_("text"), N_("other"),
)
