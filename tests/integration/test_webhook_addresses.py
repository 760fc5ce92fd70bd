"""An organization's webhooks may not reach the deployment's own network (issue 21, item 8): a
URL whose host is or resolves to a loopback, private or link-local address is refused when it is
registered, and each delivery is sent only to the public address its host resolves to at that
moment (a name that later resolves to a private address is refused then, not posted to), unless
the deployment sets `VELOX_ALLOW_PRIVATE_URLS`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config.credentials import CredentialBox
from tests.api_app import TEST_SECRET
from tests.integration.dialer_service import webhook_receiver
from tests.tenants import Tenant
from workers import webhooks as webhook_worker

pytestmark = pytest.mark.integration

PRIVATE = [
    "http://127.0.0.1:6379/",
    "http://localhost:8000/v1/convai/agents",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://[::1]:8080/hook",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_a_private_address_is_refused_when_registered(
    client: TestClient, tenant_a: Tenant, url: str
) -> None:
    body = {"settings": {"name": "internal", "webhook_url": url}}
    refused = client.post("/v1/workspace/webhooks", json=body, headers=tenant_a.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["status"] == "unsafe_url"
    assert "private, loopback or link-local" in refused.json()["detail"]["message"]
    listed = client.get("/v1/workspace/webhooks", headers=tenant_a.headers).json()
    assert listed["webhooks"] == []


def test_a_name_that_does_not_resolve_yet_is_accepted(client: TestClient, tenant_a: Tenant) -> None:
    body = {"settings": {"name": "crm", "webhook_url": "https://crm.example.invalid/hook"}}
    created = client.post("/v1/workspace/webhooks", json=body, headers=tenant_a.headers)
    assert created.status_code == 200, created.text


@pytest.fixture
def receiver_url() -> Iterator[tuple[str, list[tuple[str, dict[str, str], int]]]]:
    with webhook_receiver(failures=0) as receiver:
        yield receiver.url, receiver.received


def a_send(url: str) -> tuple[CredentialBox, webhook_worker._Send]:
    box = CredentialBox(TEST_SECRET)
    payload = {"type": "call_ended", "data": {"conversation_id": "conv_1"}}
    send = webhook_worker._Send(
        "whd_1", 1, payload, url, {}, box.encrypt("whsec_0123456789abcdef"), True
    )
    return box, send


def test_a_delivery_to_a_private_address_is_not_sent(
    receiver_url: tuple[str, list[tuple[str, dict[str, str], int]]],
) -> None:
    url, received = receiver_url
    box, send = a_send(url.replace("127.0.0.1", "localhost"))
    with httpx.Client(timeout=5) as client:
        status, error = webhook_worker._traced_post(client, box, send, False)
    assert status is None
    assert error.startswith("url_refused: localhost resolves to")
    assert received == []


def test_allowed_private_deliveries_are_sent(
    receiver_url: tuple[str, list[tuple[str, dict[str, str], int]]],
) -> None:
    url, received = receiver_url
    box, send = a_send(url)
    with httpx.Client(timeout=5) as client:
        status, error = webhook_worker._traced_post(client, box, send, True)
    assert (status, error) == (200, "")
    ((body, headers, _),) = received
    assert '"conversation_id":"conv_1"' in body
    assert headers["Host"] == url.split("/")[2]
