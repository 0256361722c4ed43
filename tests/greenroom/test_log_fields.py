"""Log lines carry the fields logged beside their message, and never a personal one."""

from __future__ import annotations

import io
import logging

from greenroom.log_privacy import PII_PREFIX, log_to


def test_a_log_line_writes_its_extra_fields_and_leaves_personal_ones_out() -> None:
    stream = io.StringIO()
    handler = log_to(stream, logging.DEBUG)
    logger = logging.getLogger("greenroom.test.fields")
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("pause decision", extra={"state": "likely", "hold_s": 2.4, f"{PII_PREFIX}transcript": "my CV"})
        logger.info("plain")
    finally:
        logging.getLogger().removeHandler(handler)
    pause, plain = stream.getvalue().splitlines()
    assert pause.endswith("DEBUG greenroom.test.fields: pause decision state=likely hold_s=2.4")
    assert "my CV" not in stream.getvalue() and PII_PREFIX not in stream.getvalue()
    assert plain.endswith("INFO greenroom.test.fields: plain")
