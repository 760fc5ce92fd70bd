"""A webhook tool's schema as the model sees it, its arguments checked, and its request built
from them, the call's variables, constants and secrets."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.config.tools import WebhookToolConfig
from app.engine.conversation import Conversation
from app.engine.webhook_request import (
    ToolArgumentsError,
    build_request,
    check_arguments,
    value_at,
)
from app.providers.base import ToolCall

pytestmark = pytest.mark.unit


def booking_tool(**changes: Any) -> WebhookToolConfig:
    api_schema: dict[str, Any] = {
        "url": "https://clinic.example.com/patients/{patient_id}/bookings",
        "method": "POST",
        "request_headers": {
            "Authorization": {"secret_id": "secret_1"},
            "X-Caller": {"variable_name": "system__caller_id"},
            "X-Client": "velox",
        },
        "path_params_schema": {
            "patient_id": {"type": "string", "dynamic_variable": "patient_id"},
        },
        "query_params_schema": {
            "properties": {
                "notify": {"type": "boolean", "description": "text the patient"},
                "source": {"type": "string", "constant_value": "phone"},
            },
            "required": [],
        },
        "request_body_schema": {
            "type": "object",
            "required": ["day", "slots"],
            "properties": {
                "day": {"type": "string", "description": "YYYY-MM-DD", "pattern": r"^\d{4}-"},
                "slots": {"type": "integer", "description": "how many", "minimum": 1},
                "clinic": {"type": "string", "constant_value": "north"},
            },
        },
        **changes,
    }
    return WebhookToolConfig.model_validate(
        {
            "type": "webhook",
            "name": "book_visit",
            "description": "Book a visit.",
            "api_schema": api_schema,
        }
    )


def test_the_model_is_offered_only_the_values_it_gives_as_one_object() -> None:
    parameters = booking_tool().parameters()

    assert parameters["type"] == "object"
    assert set(parameters["properties"]) == {"notify", "day", "slots"}
    assert parameters["required"] == ["day", "slots"]
    assert parameters["properties"]["slots"] == {
        "type": "integer",
        "description": "how many",
        "minimum": 1,
    }


def test_arguments_that_do_not_fit_the_schema_are_named() -> None:
    with pytest.raises(ToolArgumentsError) as raised:
        check_arguments(booking_tool(), {"day": "tomorrow", "slots": 0})

    message = str(raised.value)
    assert "day" in message
    assert "slots" in message


def test_the_request_takes_values_from_arguments_variables_constants_and_secrets() -> None:
    request = build_request(
        booking_tool(),
        {"day": "2026-12-07", "slots": 2, "notify": True},
        {"patient_id": "p/7", "system__caller_id": "+15550100"},
        {"secret_1": "Bearer abc"},
    )

    assert request.url == "https://clinic.example.com/patients/p%2F7/bookings"
    assert request.query == {"notify": "true", "source": "phone"}
    assert request.body == {"day": "2026-12-07", "slots": 2, "clinic": "north"}
    assert request.headers == {
        "Authorization": "Bearer abc",
        "X-Caller": "+15550100",
        "X-Client": "velox",
    }


def test_a_path_variable_the_call_does_not_have_is_an_argument_error() -> None:
    with pytest.raises(ToolArgumentsError, match="patient_id"):
        build_request(booking_tool(), {"day": "2026-12-07", "slots": 1}, {}, {"secret_1": "x"})


@pytest.mark.parametrize(
    "changes",
    [
        {"path_params_schema": {}},  # the url names {patient_id}
        {"request_body_schema": {"type": "array"}},
        {"request_body_schema": {"type": "object", "properties": {"a": {"type": 7}}}},
        {"request_headers": {"Bad Header": "x"}},
        {"request_body_schema": {"type": "object", "properties": 7}},
        # A schema never makes Velox fetch anything.
        {"request_body_schema": {"type": "object", "$ref": "http://169.254.169.254/latest"}},
    ],
)
def test_a_tool_that_is_not_valid_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        booking_tool(**changes)


def test_a_value_path_reads_objects_and_lists() -> None:
    document = {"data": [{"id": "A1"}, {"id": "B2"}], "eta": "Tuesday"}

    assert value_at(document, "data.1.id") == "B2"
    assert value_at(document, "eta") == "Tuesday"
    with pytest.raises(KeyError):
        value_at(document, "data.5.id")


def test_a_late_result_goes_right_after_the_call_that_asked_for_it() -> None:
    conversation = Conversation("system")
    conversation.add_user("where is my order")
    call = ToolCall("call_1", "order_status", {"order": "A7"})
    conversation.add_agent("", (call,))
    conversation.add_user("hello? are you there?")

    conversation.place_tool_result(call, '{"status": "shipped"}')

    roles = [(m.role, m.tool_call_id) for m in conversation.messages]
    assert roles == [
        ("system", None),
        ("user", None),
        ("assistant", None),
        ("tool", "call_1"),
        ("user", None),
    ]
