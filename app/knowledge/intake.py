"""A new document's text from what the client sent: text as is, a URL fetched and its main
text extracted, a file read by its type. Refusals raise `UnreadableDocumentError` (or
`UnsafeUrlError`), counted here by reason."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.config.url_guard import UnsafeUrlError
from app.knowledge.extraction import UnreadableDocumentError, extract_text, kind_of
from app.knowledge.fetching import fetch_page
from app.observability.metrics import KNOWLEDGE_REFUSALS, UNSAFE_URL_REFUSALS
from app.settings import Settings

# The most text one document keeps after extraction: about 1,300 passages, which embed in
# 2 to 5 minutes on one core (bench/RESULTS.md, section 11).
MAX_CONTENT_CHARS = 1_000_000


@dataclass(frozen=True)
class Extracted:
    content: str
    size_bytes: int


def _refused(error: UnreadableDocumentError) -> UnreadableDocumentError:
    KNOWLEDGE_REFUSALS.labels(error.reason).inc()
    return error


def _bounded(text: str, size_bytes: int) -> Extracted:
    if len(text) > MAX_CONTENT_CHARS:
        raise _refused(
            UnreadableDocumentError(
                f"the document's text is longer than {MAX_CONTENT_CHARS} characters; split it",
                "too_long",
            )
        )
    return Extracted(text, size_bytes)


def from_text(text: str) -> Extracted:
    from app.knowledge.extraction import tidy

    content = tidy(text)
    if not content:
        raise _refused(UnreadableDocumentError("the text is empty", "empty"))
    return _bounded(content, len(text.encode()))


def from_file(
    data: bytes, filename: str, content_type: str | None, settings: Settings
) -> Extracted:
    if len(data) > settings.knowledge_max_file_bytes:
        raise _refused(
            UnreadableDocumentError(
                f"the file is larger than {settings.knowledge_max_file_bytes} bytes", "too_large"
            )
        )
    if not data:
        raise _refused(UnreadableDocumentError("the file is empty", "empty"))
    try:
        return _bounded(extract_text(data, kind_of(filename, content_type)), len(data))
    except UnreadableDocumentError as error:
        raise _refused(error) from error


async def from_url(url: str, settings: Settings) -> Extracted:
    try:
        page = await fetch_page(
            url,
            timeout_s=settings.knowledge_url_timeout_s,
            max_bytes=settings.knowledge_max_url_bytes,
            allow_private=settings.allow_private_urls,
        )
    except UnsafeUrlError:
        UNSAFE_URL_REFUSALS.labels("knowledge_base").inc()
        raise
    except UnreadableDocumentError as error:
        raise _refused(error) from error
    media_type = page.content_type.split(";", 1)[0].strip().lower()
    kind = "html" if not media_type or "html" in media_type else None
    try:
        if kind is None:
            kind = kind_of(page.url.split("?", 1)[0], media_type)
        text = await asyncio.to_thread(extract_text, page.body, kind)
    except UnreadableDocumentError as error:
        raise _refused(error) from error
    return _bounded(text, len(page.body))
