"""The text of a knowledge-base file or page: PDF (pypdf), DOCX (python-docx), HTML (the
page's main text, trafilatura), Markdown, plain text and CSV (each row a line).

A file is judged by its name's extension first, then by its content type; what cannot be read
raises `UnreadableDocumentError` with why, which the API answers 4xx and counts.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import PurePosixPath


class UnreadableDocumentError(ValueError):
    """A document whose text cannot be extracted; `reason` is a short label for the counter."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


KINDS = ("pdf", "docx", "html", "markdown", "text", "csv")
_BY_EXTENSION = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".csv": "csv",
}
_BY_CONTENT_TYPE = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/plain": "text",
    "text/csv": "csv",
}


def kind_of(filename: str, content_type: str | None) -> str:
    """Which of `KINDS` a file is; `UnreadableDocumentError` for any other."""
    extension = PurePosixPath(filename).suffix.lower()
    if extension in _BY_EXTENSION:
        return _BY_EXTENSION[extension]
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[media_type]
    raise UnreadableDocumentError(
        f"{filename!r} is not a supported file type: send PDF, DOCX, HTML, Markdown, TXT or CSV",
        "unsupported_type",
    )


def extract_text(data: bytes, kind: str) -> str:
    """The document's text, whitespace tidied; raises `UnreadableDocumentError`."""
    if kind == "pdf":
        text = _pdf_text(data)
    elif kind == "docx":
        text = _docx_text(data)
    elif kind == "html":
        text = html_main_text(_decode(data))
    elif kind == "csv":
        text = _csv_text(_decode(data))
    else:
        text = _decode(data)
    text = tidy(text)
    if not text:
        raise UnreadableDocumentError("the document holds no text", "empty")
    return text


def tidy(text: str) -> str:
    """Trailing spaces off each line, at most one blank line in a row, NULs removed."""
    lines = [line.rstrip() for line in text.replace("\x00", "").replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _decode(data: bytes) -> str:
    for encoding in (
        ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",)
    ):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if b"\x00" in data[:4096]:
        raise UnreadableDocumentError("the file is binary, not text", "not_text")
    return data.decode("latin-1")


def html_main_text(html: str) -> str:
    """The page's main text (navigation, footers and scripts left out)."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if text:
        return str(text)
    # A page too small for trafilatura's heuristics: its visible text as a whole.
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception as error:  # lxml raises several types for broken or empty markup
        raise UnreadableDocumentError("the HTML cannot be parsed", "unreadable_html") from error
    for node in root.xpath("//script|//style|//noscript"):
        node.drop_tree()
    return str(root.text_content())


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableDocumentError("the PDF is encrypted", "encrypted_pdf")
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except UnreadableDocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise UnreadableDocumentError(
            f"the PDF cannot be read: {error}", "unreadable_pdf"
        ) from error


def _docx_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise UnreadableDocumentError(
            "the DOCX cannot be read (not a Word document?)", "unreadable_docx"
        ) from error
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _csv_text(text: str) -> str:
    """Each row a line, `header: value` pairs, so a row reads as a fact on its own."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return ""
    header, *body = rows
    if not body:
        return ", ".join(header)
    lines = []
    for row in body:
        pairs = [f"{name}: {value}" for name, value in zip(header, row, strict=False) if value]
        lines.append("; ".join(pairs))
    return "\n".join(lines)
