"""A webhook tool's request made from the model's arguments (sans-I/O): checked against the
tool's schema, then path, query, body and headers filled from them, the call's dynamic
variables, constants and the organization's secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from app.config.tools import (
    PLACEHOLDER,
    DynamicVariableLocator,
    LiteralProperty,
    SecretLocator,
    WebhookToolConfig,
)


class ToolArgumentsError(Exception):
    """The model's arguments do not fit the tool (told back to the model)."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any] | None
    content_type: str
    # What the transcript may show of the request: never a secret header.
    path_params: dict[str, str] = field(default_factory=dict)


def check_arguments(
    config: WebhookToolConfig, arguments: dict[str, Any], validator: Any = None
) -> None:
    """Raise `ToolArgumentsError` naming each mismatch with the tool's parameters."""
    checker = validator or jsonschema_rs.validator_for(config.parameters())
    problems = [
        f"{'/'.join(str(part) for part in error.instance_path) or 'arguments'}: {error.message}"
        for error in checker.iter_errors(arguments)
    ]
    if problems:
        raise ToolArgumentsError("; ".join(problems[:5]))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _literal_value(
    name: str, prop: LiteralProperty, arguments: dict[str, Any], variables: dict[str, str]
) -> Any:
    if prop.dynamic_variable is not None:
        if prop.dynamic_variable not in variables:
            raise ToolArgumentsError(
                f"{name}: the dynamic variable {prop.dynamic_variable!r} is not set"
            )
        return variables[prop.dynamic_variable]
    if prop.constant_value is not None:
        return prop.constant_value
    return arguments.get(name)


def _body_value(
    name: str, schema: dict[str, Any], arguments: dict[str, Any], variables: dict[str, str]
) -> Any:
    variable = schema.get("dynamic_variable")
    if variable:
        if variable not in variables:
            raise ToolArgumentsError(f"{name}: the dynamic variable {variable!r} is not set")
        return variables[variable]
    if schema.get("constant_value") is not None:
        return schema["constant_value"]
    return arguments.get(name)


def build_request(
    config: WebhookToolConfig,
    arguments: dict[str, Any],
    variables: dict[str, str],
    secrets: dict[str, str],
) -> WebhookRequest:
    """The request the tool sends for `arguments` (already checked with `check_arguments`)."""
    api = config.api_schema
    path_params: dict[str, str] = {}
    for name, prop in (api.path_params_schema or {}).items():
        value = _literal_value(name, prop, arguments, variables)
        if value is None:
            raise ToolArgumentsError(f"{name}: the path parameter has no value")
        path_params[name] = _text(value)
    url = PLACEHOLDER.sub(lambda match: quote(path_params[match.group(1)], safe=""), api.url)
    query: dict[str, str] = {}
    if api.query_params_schema is not None:
        for name, prop in api.query_params_schema.properties.items():
            if prop.is_omitted:
                continue
            value = _literal_value(name, prop, arguments, variables)
            if value is not None:
                query[name] = _text(value)
    body: dict[str, Any] | None = None
    if api.request_body_schema is not None:
        body = {}
        for name, schema in api.body_properties().items():
            if not isinstance(schema, dict) or schema.get("is_omitted"):
                continue
            value = _body_value(name, schema, arguments, variables)
            if value is not None:
                body[name] = value
    headers: dict[str, str] = {}
    for name, header in (api.request_headers or {}).items():
        if isinstance(header, SecretLocator):
            if header.secret_id not in secrets:
                raise ToolArgumentsError(f"the secret {header.secret_id!r} is not available")
            headers[name] = secrets[header.secret_id]
        elif isinstance(header, DynamicVariableLocator):
            headers[name] = variables.get(header.variable_name, "")
        else:
            headers[name] = header
    return WebhookRequest(
        method=api.method,
        url=url,
        headers=headers,
        query=query,
        body=body,
        content_type=api.content_type or "application/json",
        path_params=path_params,
    )


def value_at(document: Any, path: str) -> Any:
    """The value at a dot path (`data.0.id`) of a JSON document; KeyError when absent."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise KeyError(path)
    return current
