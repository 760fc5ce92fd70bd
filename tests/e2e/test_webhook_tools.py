"""Webhook tools against a real HTTP server on 127.0.0.1: what is sent, and every way a tool
server can fail coming back to the model as a tool error it can speak about."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.calls.webhook_sender import HttpWebhookSender
from app.config.tools import WebhookToolConfig
from app.engine.webhook_tools import CallTools, WebhookTool, WebhookTools
from app.providers.base import ToolCall
from tests.local_http import QuietHandler, serving

pytestmark = pytest.mark.e2e

SECRET = "Bearer tool-secret-5a1f"


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.counts: dict[str, int] = {}

    def event(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


class ToolServer:
    """What the tool's server received, and how it answers each path."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()


@pytest.fixture
def tool_server() -> Iterator[tuple[str, ToolServer]]:
    state = ToolServer()

    class Handler(QuietHandler):
        def _answer(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length).decode() if length else "",
                }
            )
            if self.path.startswith("/orders/"):
                order = self.path.split("/")[2].split("?")[0]
                body = {"order": order, "status": "shipped", "eta": "Tuesday", "internal": "x1"}
                self._answer(200, json.dumps(body).encode(), **{"Content-Type": "application/json"})
            elif self.path.startswith("/broken"):
                self._answer(500, b'{"detail": "database down"}')
            elif self.path.startswith("/garbage"):
                self._answer(200, b"<html>oops</html>")
            elif self.path.startswith("/hang"):
                state.release.wait(10)
                self._answer(200, b"{}")
            elif self.path.startswith("/elsewhere"):
                port = self.server.server_address[1]
                self._answer(302, b"", Location=f"http://localhost:{port}/orders/A7")
            elif self.path.startswith("/moved"):
                self._answer(307, b"", Location="/orders/B9")
            else:
                self._answer(404, b"")

    with serving(Handler) as base_url:
        yield base_url, state
        state.release.set()


def tool(base_url: str, path: str, *, timeout: int = 5, **extra: Any) -> WebhookToolConfig:
    return WebhookToolConfig.model_validate(
        {
            "type": "webhook",
            "name": "order_status",
            "description": "An order's status.",
            "response_timeout_secs": timeout,
            "api_schema": {
                "url": f"{base_url}{path}",
                "method": "GET",
                "request_headers": {"Authorization": {"secret_id": "secret_1"}},
                "path_params_schema": (
                    {"order_id": {"type": "string", "description": "order number"}}
                    if "{order_id}" in path
                    else {}
                ),
                "query_params_schema": {
                    "properties": {"lang": {"type": "string", "constant_value": "en"}}
                },
            },
            **extra,
        }
    )


def tools_for(
    config: WebhookToolConfig, *, allow_private: bool = True
) -> tuple[WebhookTools, Log, list[tuple[str, str]]]:
    log = Log()
    outcomes: list[tuple[str, str]] = []
    tools = WebhookTools(
        CallTools(
            webhooks=(WebhookTool("tool_1", config),),
            secrets={"secret_1": SECRET},
            sender=HttpWebhookSender(allow_private_urls=allow_private),
        ),
        {"system__caller_id": "+15550100"},
        log,
        on_outcome=lambda kind, outcome: outcomes.append((kind, outcome)),
    )
    return tools, log, outcomes


async def test_a_tool_is_called_with_its_secret_and_its_answer_assigns_variables(
    tool_server: tuple[str, ToolServer],
) -> None:
    base_url, server = tool_server
    config = tool(
        base_url,
        "/orders/{order_id}",
        assignments=[
            {"dynamic_variable": "order_eta", "value_path": "eta"},
            {"dynamic_variable": "ref", "value_path": "internal", "sanitize": True},
        ],
    )
    tools, _, outcomes = tools_for(config)

    outcome = await tools.run(ToolCall("call_1", "order_status", {"order_id": "A 7"}))

    assert not outcome.is_error
    assert json.loads(outcome.result) == {"order": "A%207", "status": "shipped", "eta": "Tuesday"}
    [request] = server.requests
    assert request["path"] == "/orders/A%207?lang=en"
    assert request["headers"]["Authorization"] == SECRET
    assert tools.variables["order_eta"] == "Tuesday"
    assert tools.variables["ref"] == "x1"
    assert [u["variable_name"] for u in outcome.variable_updates] == ["order_eta", "ref"]
    assert outcome.details is not None
    assert "Authorization" not in json.dumps(outcome.details)
    assert outcomes == [("webhook", "ok")]


@pytest.mark.parametrize(
    ("path", "error_type", "says"),
    [
        ("/broken", "http_error", "HTTP 500"),
        ("/garbage", "invalid_response", "did not answer JSON"),
        ("/elsewhere", "redirect_refused", "another host"),
    ],
)
async def test_a_failing_tool_server_is_a_tool_error_the_model_can_speak_about(
    tool_server: tuple[str, ToolServer], path: str, error_type: str, says: str
) -> None:
    base_url, _ = tool_server
    tools, log, outcomes = tools_for(tool(base_url, path))

    outcome = await tools.run(ToolCall("call_1", "order_status", {}))

    assert outcome.is_error
    assert outcome.error_type == error_type
    assert says in json.loads(outcome.result)["error"]
    assert log.counts["tool_errors"] == 1
    assert outcomes == [("webhook", error_type)]


async def test_a_redirect_on_the_same_host_is_followed(
    tool_server: tuple[str, ToolServer],
) -> None:
    base_url, server = tool_server
    tools, _, _ = tools_for(tool(base_url, "/moved"))

    outcome = await tools.run(ToolCall("call_1", "order_status", {}))

    assert not outcome.is_error
    assert json.loads(outcome.result)["order"] == "B9"
    assert [r["path"] for r in server.requests] == ["/moved?lang=en", "/orders/B9"]


async def test_a_hanging_tool_server_times_out_at_the_tools_timeout(
    tool_server: tuple[str, ToolServer],
) -> None:
    base_url, _ = tool_server
    tools, _, _ = tools_for(tool(base_url, "/hang", timeout=1))

    started = time.monotonic()
    outcome = await tools.run(ToolCall("call_1", "order_status", {}))

    assert outcome.error_type == "timeout"
    assert 0.9 < time.monotonic() - started < 3.0
    assert "did not answer within 1 s" in outcome.result


async def test_a_private_address_is_refused_unless_the_deployment_allows_it(
    tool_server: tuple[str, ToolServer],
) -> None:
    base_url, server = tool_server
    tools, _, _ = tools_for(tool(base_url, "/orders/{order_id}"), allow_private=False)

    outcome = await tools.run(ToolCall("call_1", "order_status", {"order_id": "A7"}))

    assert outcome.error_type == "url_refused"
    assert not outcome.called
    assert "VELOX_ALLOW_PRIVATE_URLS" in outcome.result
    assert server.requests == []


async def test_arguments_that_do_not_match_never_reach_the_tool(
    tool_server: tuple[str, ToolServer],
) -> None:
    base_url, server = tool_server
    tools, _, _ = tools_for(tool(base_url, "/orders/{order_id}"))

    outcome = await tools.run(ToolCall("call_1", "order_status", {"order_id": 7}))

    assert outcome.error_type == "invalid_arguments"
    assert not outcome.called
    assert "order_id" in outcome.result
    assert server.requests == []
