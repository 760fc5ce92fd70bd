"""Front-end files go out as their build-time gzip twins to clients that accept gzip."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.routing import Mount
from starlette.testclient import TestClient

from app.api.precompressed_files import PrecompressedFiles, accepts_gzip

pytestmark = pytest.mark.unit

SCRIPT = b"console.log('velox');\n" * 200


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "app.js").write_bytes(SCRIPT)
    (tmp_path / "app.js.gz").write_bytes(gzip.compress(SCRIPT))
    (tmp_path / "plain.css").write_bytes(b"body{}" * 300)
    app = Starlette(routes=[Mount("/", PrecompressedFiles(directory=tmp_path))])
    return TestClient(app)


def test_a_client_that_accepts_gzip_gets_the_twin(client: TestClient) -> None:
    response = client.get("/app.js", headers={"accept-encoding": "gzip, br"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(SCRIPT) / 10
    assert response.content == SCRIPT  # decoded by the client


def test_others_get_the_file_as_it_is(client: TestClient) -> None:
    plain = client.get("/app.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert int(plain.headers["content-length"]) == len(SCRIPT)
    ranged = client.get("/app.js", headers={"accept-encoding": "gzip", "range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert ranged.content == SCRIPT[:10]
    no_twin = client.get("/plain.css", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in no_twin.headers
    assert "vary" not in no_twin.headers


def test_a_revalidation_of_the_twin_is_not_modified(client: TestClient) -> None:
    first = client.get("/app.js", headers={"accept-encoding": "gzip"})
    again = client.get(
        "/app.js", headers={"accept-encoding": "gzip", "if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("br", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, accepted: bool) -> None:
    assert accepts_gzip(Headers({"accept-encoding": header})) is accepted
