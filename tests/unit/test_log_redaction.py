"""Log records are redacted when they are made, and formatters that read a record's arguments
(uvicorn's access log) still work on them."""

from __future__ import annotations

import io
import logging

import pytest
from uvicorn.logging import AccessFormatter

from app.config.redaction import REDACTED, redact_log_records, remember_secret

pytestmark = pytest.mark.unit

SECRET = "sk_live_feedfacecafebeef0123456789"


def access_line(path: str) -> tuple[str, str]:
    """What uvicorn's access formatter writes for a request to `path`, and what went wrong."""
    redact_log_records()
    remember_secret(SECRET)
    out, errors = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    handler.handleError = lambda record: errors.write("formatting failed")  # type: ignore[method-assign]
    logger = logging.getLogger("test.uvicorn.access")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    finally:
        logger.removeHandler(handler)
    return out.getvalue().strip(), errors.getvalue()


def test_an_access_line_is_written_as_uvicorn_formats_it() -> None:
    line, errors = access_line("/m/leads/lead_1")
    assert errors == ""
    assert line == '127.0.0.1:5000 - "GET /m/leads/lead_1 HTTP/1.1" 200 OK'


def test_a_secret_in_an_access_line_is_redacted_and_the_line_still_written() -> None:
    line, errors = access_line(f"/v1/things?key={SECRET}")
    assert errors == ""
    assert SECRET not in line
    assert f"key={REDACTED}" in line
