"""Static files answered with their gzip twin, compressed once when the front end was built.

`scripts/precompress.mjs` (run by the dashboard's and the field app's `npm run build`) writes
`<name>.gz` beside each text file of a build. A GET that accepts gzip gets the twin, with
`Content-Encoding: gzip`, the original's content type and `Vary: Accept-Encoding`; a client that
does not accept gzip, a Range request, or a file without a twin gets the file as it is. No
compression work per request, and nothing changes for a build made without twins.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

VARY = {"vary": "Accept-Encoding"}


def accepts_gzip(headers: Headers) -> bool:
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class PrecompressedFiles(StaticFiles):
    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        twin = Path(f"{os.fspath(full_path)}.gz")
        if "range" in request_headers or not accepts_gzip(request_headers) or not twin.is_file():
            response = super().file_response(full_path, stat_result, scope, status_code)
            if twin.is_file():
                response.headers.update(VARY)
            return response
        plain = FileResponse(full_path, stat_result=stat_result)
        compressed = FileResponse(
            twin,
            status_code=status_code,
            stat_result=twin.stat(),
            media_type=plain.media_type,
            headers={"content-encoding": "gzip", **VARY},
        )
        if self.is_not_modified(compressed.headers, request_headers):
            return NotModifiedResponse(compressed.headers)
        return compressed
