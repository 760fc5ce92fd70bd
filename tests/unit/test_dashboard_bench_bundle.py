"""The dashboard bench's first-load JavaScript count, and where its section goes in RESULTS.md."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bench.dashboard_bundle import page_bundles
from bench.sections import DASHBOARD, FIELD_APP, markers, splice_section

pytestmark = pytest.mark.unit

SHARED = b"console.log('shared');" * 40
PAGE = b"console.log('calls page');" * 10


def _page(build: Path, relative: str, scripts: str) -> None:
    path = build / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html><html><head>{scripts}</head><body></body></html>")


def _build(tmp_path: Path) -> Path:
    chunks = tmp_path / "_next" / "static" / "chunks"
    chunks.mkdir(parents=True)
    (chunks / "shared.js").write_bytes(SHARED)
    (chunks / "calls.js").write_bytes(PAGE)
    (chunks / "polyfills.js").write_bytes(b"x" * 5000)
    scripts = (
        '<script src="/_next/static/chunks/shared.js" async=""></script>'
        '<script src="/_next/static/chunks/calls.js" async=""></script>'
        '<script src="/_next/static/chunks/shared.js" async=""></script>'
        '<script src="/_next/static/chunks/polyfills.js" noModule=""></script>'
        "<script>self.__next_f.push([1])</script>"
    )
    _page(tmp_path, "calls/index.html", scripts)
    _page(tmp_path, "index.html", '<script src="/_next/static/chunks/shared.js"></script>')
    _page(tmp_path, "404/index.html", '<script src="/_next/static/chunks/shared.js"></script>')
    return tmp_path


def test_a_page_counts_each_script_it_loads_once_without_the_nomodule_polyfills(
    tmp_path: Path,
) -> None:
    pages = {page.route: page for page in page_bundles(_build(tmp_path))}

    assert sorted(pages) == ["/", "/calls/"]  # the not-found page is not the dashboard's
    calls = pages["/calls/"]
    assert calls.scripts == 2
    assert calls.raw_bytes == len(SHARED) + len(PAGE)
    expected_gzip = sum(len(gzip.compress(data, 9, mtime=0)) for data in (SHARED, PAGE))
    assert calls.gzip_bytes == expected_gzip < calls.raw_bytes
    assert calls.html_raw_bytes == (tmp_path / "calls" / "index.html").stat().st_size


def test_a_script_the_build_lacks_is_an_error_naming_the_page(tmp_path: Path) -> None:
    _page(tmp_path, "live/index.html", '<script src="/_next/static/chunks/gone.js"></script>')

    with pytest.raises(FileNotFoundError, match=r"live/index\.html loads .*gone\.js"):
        page_bundles(tmp_path)


def test_the_dashboard_section_follows_the_field_app_and_precedes_the_method() -> None:
    begin, end = markers(FIELD_APP)
    existing = f"# Results\n\n{begin}\n## 9. Field app\n{end}\n\n## How it is measured\nText.\n"
    block = "\n".join([*markers(DASHBOARD)[:1], "## 10. Dashboard speed", markers(DASHBOARD)[1]])

    spliced = splice_section(existing, block, DASHBOARD)
    replaced = splice_section(spliced, block.replace("speed", "speed again"), DASHBOARD)

    assert spliced.index("## 9.") < spliced.index("## 10.") < spliced.index("## How it is")
    assert replaced.count("## 10.") == 1
    assert "speed again" in replaced
