"""Keeps what candidates say out of the logs, whatever level and format they are written at;
and writes the fields the code logs beside its messages (`extra=`), which are counts, times and
states, never words.

livekit-agents attaches conversation text to its own log records (at DEBUG) under attribute
names with a `lk.pii.` prefix: the user's transcript, the chat context. A structured log
handler writes every such attribute. This filter empties them before any handler sees them.
"""

from __future__ import annotations

import logging
import os
from typing import TextIO

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


# What every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class WithFields(logging.Formatter):
    """The message, then its `extra=` fields as name=value ("pause decision state=likely
    hold_s=2.4"); personal fields (`lk.pii.*`) are left out whatever their value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={value}" for name, value in vars(record).items()
            if name not in _RECORD_FIELDS and not name.startswith(PII_PREFIX) and not name.startswith("_")
        ]
        return " ".join([line, *fields]) if fields else line


def log_to(target: str | os.PathLike[str] | TextIO, level: int = logging.INFO) -> logging.Handler:
    """A root handler writing WithFields lines to a stream, or to a file given its path."""
    handler: logging.Handler = (
        logging.FileHandler(target) if isinstance(target, (str, os.PathLike)) else logging.StreamHandler(target)
    )
    handler.setFormatter(WithFields(LOG_FORMAT))
    handler.setLevel(level)
    logging.getLogger().addHandler(handler)
    return handler
