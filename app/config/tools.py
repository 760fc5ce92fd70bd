"""A webhook tool's configuration, in ElevenLabs' `tool_config` shape (`type: "webhook"`).

The API validates a tool with these models when it is created or changed (its schemas must be
valid JSON Schema); a call reads the same models to offer the tool to the model, check the
model's arguments and build the request. Unknown fields are kept so an SDK body round-trips.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import jsonschema_rs
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.config.system_tools import SYSTEM_TOOL_NAMES

TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
VARIABLE_NAME_PATTERN = r"^[a-zA-Z0-9_.-]{1,100}$"
# Velox's built-in tools keep their names.
RESERVED_NAMES = frozenset({"end_call", "transfer_call", *SYSTEM_TOOL_NAMES})
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
# Keys of ElevenLabs' property schemas that say where a value comes from: not JSON Schema.
SOURCE_KEYS = (
    "dynamic_variable",
    "constant_value",
    "is_system_provided",
    "is_omitted",
    "allowed_values_dynamic_variable",
    "property_kind",
    "required_constraints",
)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")


class SecretLocator(_Section):
    """A header whose value is one of the organization's secrets (`/v1/convai/secrets`)."""

    secret_id: str = Field(min_length=1, max_length=64)


class DynamicVariableLocator(_Section):
    """A header whose value is one of the call's dynamic variables."""

    variable_name: str = Field(pattern=VARIABLE_NAME_PATTERN)


HeaderValue = Annotated[str, Field(max_length=4000)] | SecretLocator | DynamicVariableLocator


class LiteralProperty(_Section):
    """A path or query parameter: the model gives it (`description`), or a dynamic variable, a
    constant, or nothing (`is_omitted`) does; only one of them."""

    type: Literal["string", "integer", "number", "boolean"]
    description: str | None = Field(default=None, max_length=2000)
    enum: list[str] | None = None
    dynamic_variable: str | None = Field(default=None, pattern=VARIABLE_NAME_PATTERN)
    constant_value: str | int | float | bool | None = None
    is_system_provided: bool | None = None
    is_omitted: bool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LiteralProperty:
        sources = [
            self.description is not None and self.description != "",
            self.dynamic_variable is not None,
            self.constant_value is not None,
            bool(self.is_system_provided),
            bool(self.is_omitted),
        ]
        if sum(sources) > 1:
            raise ValueError(
                "set only one of description, dynamic_variable, constant_value,"
                " is_system_provided and is_omitted"
            )
        return self

    def from_model(self) -> bool:
        """Whether the model gives this value (it is offered in the tool's parameters)."""
        return not (
            self.dynamic_variable is not None
            or self.constant_value is not None
            or self.is_system_provided
            or self.is_omitted
        )

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.description:
            schema["description"] = self.description
        if self.enum:
            schema["enum"] = list(self.enum)
        return schema


class QueryParamsSchema(_Section):
    properties: dict[str, LiteralProperty]
    required: list[str] | None = None


class ApiSchema(_Section):
    """The outgoing request: where, how, with which headers and which parameters."""

    url: str = Field(min_length=8, max_length=2000)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    request_headers: dict[str, HeaderValue] | None = None
    path_params_schema: dict[str, LiteralProperty] | None = None
    query_params_schema: QueryParamsSchema | None = None
    request_body_schema: dict[str, Any] | None = None
    content_type: Literal["application/json", "application/x-www-form-urlencoded"] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError("url must be an absolute http:// or https:// URL")
        return url

    @field_validator("request_headers")
    @classmethod
    def _header_names(cls, headers: dict[str, Any] | None) -> dict[str, Any] | None:
        for name in headers or {}:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}", name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
        return headers

    @model_validator(mode="after")
    def _consistent(self) -> ApiSchema:
        placeholders = set(PLACEHOLDER.findall(self.url))
        declared = set(self.path_params_schema or {})
        if placeholders != declared:
            raise ValueError(
                "the url's {placeholders} and path_params_schema must name the same parameters"
                f" (url: {sorted(placeholders)}, path_params_schema: {sorted(declared)})"
            )
        if self.request_body_schema is not None and self.method not in BODY_METHODS:
            raise ValueError(f"a {self.method} request has no body: drop request_body_schema")
        query = self.query_params_schema
        if query is not None:
            unknown = set(query.required or []) - set(query.properties)
            if unknown:
                raise ValueError(f"query_params_schema requires undeclared {sorted(unknown)}")
        return self

    def body_properties(self) -> dict[str, Any]:
        return dict((self.request_body_schema or {}).get("properties") or {})


class DynamicVariableAssignment(_Section):
    """A value of the tool's JSON response (dot path, `data.0.id`) kept as a dynamic variable."""

    source: Literal["response"] | None = "response"
    dynamic_variable: str = Field(pattern=VARIABLE_NAME_PATTERN)
    value_path: str = Field(min_length=1, max_length=500)
    sanitize: bool | None = None


class WebhookToolConfig(_Section):
    type: Literal["webhook"]
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str = Field(max_length=2000)
    response_timeout_secs: int | None = Field(default=None, ge=1, le=120)
    pre_tool_speech: Literal["auto", "force", "off"] | None = None
    execution_mode: Literal["immediate", "post_tool_speech", "async"] | None = None
    assignments: list[DynamicVariableAssignment] | None = None
    api_schema: ApiSchema

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name in RESERVED_NAMES:
            raise ValueError(f"tool name {name!r} is reserved for a built-in tool")
        return name

    @model_validator(mode="after")
    def _valid_json_schema(self) -> WebhookToolConfig:
        body = self.api_schema.request_body_schema
        try:
            if body is not None:
                if body.get("type", "object") != "object":
                    raise ValueError('request_body_schema must be a schema of "type": "object"')
                _local_refs_only(body)
                jsonschema_rs.meta.validate(json_schema_of(body))
            names: list[str] = [
                *(self.api_schema.path_params_schema or {}),
                *(
                    self.api_schema.query_params_schema or QueryParamsSchema(properties={})
                ).properties,
                *self.api_schema.body_properties(),
            ]
            for name in names:
                if names.count(name) > 1:
                    raise ValueError(
                        f"parameter {name!r} is named twice across the path, query and body schemas"
                    )
            parameters = self.parameters()
            jsonschema_rs.meta.validate(parameters)
            jsonschema_rs.validator_for(parameters)
        except jsonschema_rs.ValidationError as error:
            raise ValueError(f"not a valid JSON Schema: {error.message}") from error
        except (TypeError, jsonschema_rs.ReferencingError) as error:
            raise ValueError(f"not a valid JSON Schema: {error}") from error
        return self

    @property
    def timeout_secs(self) -> int:
        return self.response_timeout_secs or 20

    def secret_ids(self) -> set[str]:
        headers = self.api_schema.request_headers or {}
        return {value.secret_id for value in headers.values() if isinstance(value, SecretLocator)}

    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments the model gives: one flat object of the path, query
        and body parameters it provides (those filled from elsewhere are not offered)."""
        api = self.api_schema
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, prop in (api.path_params_schema or {}).items():
            if prop.from_model():
                properties[name] = prop.json_schema()
                required.append(name)
        if api.query_params_schema is not None:
            query_required = set(api.query_params_schema.required or [])
            for name, prop in api.query_params_schema.properties.items():
                if prop.from_model():
                    properties[name] = prop.json_schema()
                    if name in query_required:
                        required.append(name)
        body = api.request_body_schema or {}
        body_required = set(body.get("required") or [])
        for name, prop in api.body_properties().items():
            if isinstance(prop, dict) and _from_model(prop):
                properties[name] = json_schema_of(prop)
                if name in body_required:
                    required.append(name)
        return {"type": "object", "properties": properties, "required": required}


def _local_refs_only(schema: Any) -> None:
    """A `$ref` may point inside the schema only: a tool's schema never fetches anything."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
            raise ValueError(f"$ref {ref!r} is refused: only references inside the schema (#/…)")
        for value in schema.values():
            _local_refs_only(value)
    elif isinstance(schema, list):
        for item in schema:
            _local_refs_only(item)


def _from_model(schema: dict[str, Any]) -> bool:
    return not any(
        schema.get(key) not in (None, False)
        for key in ("dynamic_variable", "constant_value", "is_system_provided", "is_omitted")
    )


def json_schema_of(schema: Any) -> Any:
    """An ElevenLabs property schema as plain JSON Schema (its value-source keys dropped)."""
    if isinstance(schema, dict):
        return {
            key: (
                {name: json_schema_of(sub) for name, sub in value.items()}
                if key == "properties" and isinstance(value, dict)
                else json_schema_of(value)
            )
            for key, value in schema.items()
            if key not in SOURCE_KEYS
        }
    if isinstance(schema, list):
        return [json_schema_of(item) for item in schema]
    return schema
