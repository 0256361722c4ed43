"""Keeps what candidates say out of the logs, whatever level and format they are written at.

livekit-agents attaches conversation text to its own log records (at DEBUG) under attribute
names with a `lk.pii.` prefix: the user's transcript, the chat context. A structured log
handler writes every such attribute. This filter empties them before any handler sees them.
"""

from __future__ import annotations

import logging

PII_PREFIX = "lk.pii."
REDACTED = "[redacted]"
LIVEKIT_LOGGERS = ("livekit.agents",)


class DropPersonalFields(logging.Filter):
    """Replaces the value of every `lk.pii.*` attribute of a record with a placeholder."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in [n for n in vars(record) if n.startswith(PII_PREFIX)]:
            setattr(record, name, REDACTED)
        return True


def keep_personal_data_out_of_logs() -> None:
    """Installs the filter on livekit-agents' logger (once, however often it is called)."""
    for name in LIVEKIT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropPersonalFields) for f in logger.filters):
            logger.addFilter(DropPersonalFields())
