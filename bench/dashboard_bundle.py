"""The dashboard's first-load JavaScript per page, read from its static export.

A page's first load is every script file its HTML (`web_dashboard/out/<page>/index.html`) loads
as a module-era browser does: each `<script src>` except the `noModule` polyfills (a current
browser skips them). Each file is counted once per page; raw bytes and gzip bytes (level 9, as
`next build`'s own "First Load JS" column counts them) are summed. The HTML document itself,
whose inline scripts carry the page's React Server Components payload, is reported beside.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# The export's pages that are not the dashboard's own (Next's not-found page, twice).
NOT_PAGES = frozenset({"404.html", "404/index.html"})


@dataclass(frozen=True, slots=True)
class PageBundle:
    route: str  # "/calls/"
    scripts: int
    raw_bytes: int
    gzip_bytes: int
    html_raw_bytes: int
    html_gzip_bytes: int


class _Scripts(HTMLParser):
    """The `src` of each script a module-era browser loads, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        named = dict(attrs)
        source = named.get("src")
        if source and "nomodule" not in named:  # the parser lowercases attribute names
            self.sources.append(source)


def _gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def page_bundles(build: Path) -> list[PageBundle]:
    """One `PageBundle` per page of the export in `build`, ordered by route."""
    sizes: dict[str, tuple[int, int]] = {}
    pages = []
    for html in sorted(build.rglob("index.html")):
        relative = html.relative_to(build).as_posix()
        if relative in NOT_PAGES:
            continue
        document = html.read_bytes()
        parser = _Scripts()
        parser.feed(document.decode())
        sources = list(dict.fromkeys(parser.sources))
        raw = packed = 0
        for source in sources:
            if source not in sizes:
                path = build / source.split("?", 1)[0].lstrip("/")
                if not path.is_file():
                    raise FileNotFoundError(f"{relative} loads {source}, which the build lacks")
                data = path.read_bytes()
                sizes[source] = (len(data), _gzip_size(data))
            raw += sizes[source][0]
            packed += sizes[source][1]
        route = "/" + relative.removesuffix("index.html")
        pages.append(
            PageBundle(route, len(sources), raw, packed, len(document), _gzip_size(document))
        )
    if not pages:
        raise FileNotFoundError(f"no page in {build}: build the dashboard first (make dashboard)")
    return sorted(pages, key=lambda page: page.route)
