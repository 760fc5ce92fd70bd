"""Per-conversation overrides a client sends, applied only where the agent's settings allow.

An agent lists what a client may change in `platform_settings.overrides.
conversation_config_override`, as nested `true` flags mirroring `conversation_config`
(ElevenLabs' shape). A client asking to change anything else is refused with the field's path,
rather than silently talking with settings it did not ask for.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.config.agent import AgentConfig

# Overridable fields Velox applies, as paths into `conversation_config`. Other flags an agent
# may set (ElevenLabs' voice stability, say) are accepted and have no effect here.
APPLIED_FIELDS = (
    ("agent", "prompt", "prompt"),
    ("agent", "first_message"),
    ("agent", "language"),
    ("tts", "voice_id"),
    ("conversation", "text_only"),
)


class OverrideNotAllowedError(ValueError):
    """The client asked to override a field the agent does not let clients change."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"override of {path!r} is not allowed by this agent's settings "
            f"(platform_settings.overrides.conversation_config_override)"
        )
        self.path = path


class InvalidOverrideError(ValueError):
    """An allowed override whose value does not fit the field (a non-string prompt, say)."""


def _leaves(
    tree: dict[str, Any], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any]]:
    leaves = []
    for key, value in tree.items():
        if isinstance(value, dict):
            leaves.extend(_leaves(value, (*prefix, key)))
        elif value is not None:  # the JS client leaves unset overrides out; null means unset
            leaves.append(((*prefix, key), value))
    return leaves


def _allowed(permissions: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = permissions
    for key in path:
        if not isinstance(node, dict):
            return False
        node = node.get(key)
    return node is True


def _normalised(overrides: dict[str, Any]) -> dict[str, Any]:
    """The Python SDK puts `text_only` at the top level; it means `conversation.text_only`."""
    if "text_only" not in overrides:
        return overrides
    rest = {key: value for key, value in overrides.items() if key != "text_only"}
    conversation = dict(rest.get("conversation") or {})
    conversation.setdefault("text_only", overrides["text_only"])
    return {**rest, "conversation": conversation}


def apply_overrides(config: AgentConfig, overrides: dict[str, Any]) -> AgentConfig:
    """`config` with the client's `conversation_config_override` applied, or a typed error.

    Asking for what the agent already has is not an override: the Python SDK asks for a
    text-only session whenever it has no audio, also of agents that are text-only anyway.
    """
    permissions = config.platform_settings.overrides.conversation_config_override
    current = config.conversation_config.model_dump()
    updated = config.conversation_config.model_dump()
    for path, value in _leaves(_normalised(overrides)):
        dotted = ".".join(path)
        if _lookup(current, path) == value:
            continue
        if not _allowed(permissions, path):
            raise OverrideNotAllowedError(dotted)
        if path not in APPLIED_FIELDS:
            continue
        _assign(updated, path, value)
    try:
        conversation_config = type(config.conversation_config).model_validate(updated)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise InvalidOverrideError(f"override of {where!r}: {problem['msg']}") from error
    return config.model_copy(update={"conversation_config": conversation_config})


def _lookup(tree: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _assign(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def answered_config(config: AgentConfig, initiation: dict[str, Any] | None) -> AgentConfig:
    """The agent's settings for a call placed with overrides (an outbound call, kept in its
    `initiation`), now answered: with them applied."""
    overrides = (initiation or {}).get("overrides") or {}
    return apply_overrides(config, overrides) if overrides else config


def answered_variables(initiation: dict[str, Any] | None) -> dict[str, str]:
    """The dynamic variables a call was placed with."""
    return {str(k): str(v) for k, v in ((initiation or {}).get("dynamic_variables") or {}).items()}
