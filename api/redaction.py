"""A logging filter that masks secrets and personal data before anything is written.

It sits on the root handler (api/observability.py configure_logging), so it
sees every record, uvicorn's included, after the message is formatted and with
the traceback rendered: a token quoted in an exception message three frames
down is masked as well as one in a log call's arguments.

What it masks, and why each is there:
- our bearer secrets (`jotr_emp_…`, `jotr_js_…`, `jotr_con_…`) and any
  `Bearer …` credential, whatever logged it;
- the values PostgreSQL echoes in constraint errors (`Key (email)=(…)`,
  `Failing row contains (…)`) and SQLAlchemy's `[parameters: …]`, although
  our engines hide parameters (matcher/db.py), for anything that does not;
- Web Push endpoints (capability URLs: whoever has one can push to that
  browser), by the push services' hosts and the usual path shapes;
- the personal fields we store (display name, birth date, e-mail, phone,
  CVR) when they appear as `field=value` or `"field": value`.
This is the last line of defence: code should not log such things at all.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "[redacted]"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Our own secrets, by prefix (matcher/people/tokens.py).
    (re.compile(r"jotr_(?:emp|js|con)_[A-Za-z0-9_\-]*"), "[redacted-secret]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+"), rf"\1 {MASK}"),
    # PostgreSQL's DETAIL lines: the key columns stay, their values go.
    (re.compile(r"(Key \([^)]*\)=)\(.*\)"), rf"\1({MASK})"),
    (re.compile(r"(Failing row contains )\(.*\)"), rf"\1({MASK})"),
    (re.compile(r"(\[parameters: ).*?\](?=\s|$)"), rf"\1{MASK}]"),
    # Web Push subscription endpoints are capability URLs (whoever has one can
    # push to that browser): the host stays, the path goes. Known push services
    # by host, and any `/push/...`, `/wpush/...`, `/fcm/send/...` path.
    (
        re.compile(
            r"(?i)(https?://(?:[a-z0-9-]+\.)*(?:googleapis\.com|mozilla\.com|push\.apple\.com"
            r"|notify\.windows\.com))/[^\s\"'<>]+"
        ),
        rf"\1/{MASK}",
    ),
    (re.compile(r"(?i)/(?:push|wpush|fcm/send)/[^\s\"'<>]+"), f"/push/{MASK}"),
    # Personal fields written as key=value or "key": value (JSON, dict reprs).
    (
        re.compile(
            r"""(?ix)
            (?P<key>["']?\b(?:display_name|birth_date|email|contact_email|phone|cvr)\b["']?
               \s*[:=]\s*)
            (?P<value>"[^"]*"|'[^']*'|[^\s,;)}\]]+)
            """
        ),
        rf"\g<key>{MASK}",
    ),
]

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Rewrites each record in place: message, traceback, stack and extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what we have, masked
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            # Render now (so the formatter cannot render the raw one) and mask it.
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                setattr(record, key, _redact_value(value))
        return True
