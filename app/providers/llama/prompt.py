"""A conversation rendered through the model's own chat template, then tokenized.

The template is the GGUF's (`tokenizer.chat_template`); SmolLM2's ChatML stands in where a file
carries none. A model that calls tools gets the tools and the conversation's tool calls and
results rendered as its template writes them (Qwen2.5: `<tools>` in the system turn, the calls
as `<tool_call>` in the assistant's turn, results as `<tool_response>` in a user turn, each
result followed by a cue to say it in words); a model
that does not sees only the system prompt and the spoken turns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.providers.base import ChatMessage, ProviderError, ToolSpec
from app.providers.llama.prefix_cache import common_prefix_length

# The chat template of SmolLM2 (ChatML), used when a GGUF carries none.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

Tokenize = Callable[[str], list[int]]
# Said after each tool result: without it Qwen2.5-Coder-0.5B answers a JSON result by repeating
# it, and the caller hears the JSON read out (tests/models/test_real_speech_booking.py).
TOOL_RESULT_CUE = (
    "Tell the caller what this result means in one short spoken sentence, not as JSON."
)


def template_message(message: ChatMessage) -> dict[str, Any]:
    """One message as chat templates read it (tool-call arguments as an object, which
    Qwen's template writes out with `tojson`)."""
    rendered: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        rendered["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        rendered["tool_call_id"] = message.tool_call_id or ""
        rendered["content"] = f"{message.content}\n{TOOL_RESULT_CUE}"
    return rendered


def template_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters or {"type": "object", "properties": {}},
        },
    }


class ChatPrompt:
    """Renders and tokenizes conversations for one model."""

    def __init__(
        self,
        provider: str,
        template: str | None,
        *,
        eos: str,
        bos: str,
        tokenize: Tokenize,
        calls_tools: bool,
    ) -> None:
        self._provider = provider
        self._format = Jinja2ChatFormatter(
            template=template or CHATML_TEMPLATE, eos_token=eos, bos_token=bos
        )
        self._tokenize = tokenize
        self.calls_tools = calls_tools

    def tokens(
        self, messages: list[ChatMessage], tools: list[ToolSpec], max_tokens: int, n_ctx: int
    ) -> tuple[list[int], list[int]]:
        """The system part's tokens and the whole prompt's, oldest turns dropped to fit."""
        tools = tools if self.calls_tools else []
        system = [m for m in messages if m.role == "system" and m.content]
        turns = [m for m in messages if self._keeps(m)]
        system_tokens = self._render(system, tools, generation_prompt=False) if system else []
        while True:
            prompt = self._render([*system, *turns], tools, generation_prompt=True)
            if len(prompt) + max_tokens <= n_ctx or len(turns) <= 1:
                break
            turns = turns[1:]
        if len(prompt) + max_tokens > n_ctx:
            raise ProviderError(
                self._provider,
                f"the prompt takes {len(prompt)} of {n_ctx} context tokens; "
                "shorten the agent's system prompt",
            )
        return system_tokens[: common_prefix_length(system_tokens, prompt)], prompt

    def _keeps(self, message: ChatMessage) -> bool:
        if message.role == "user":
            return True
        if message.role == "assistant":
            return bool(message.content or (self.calls_tools and message.tool_calls))
        return message.role == "tool" and self.calls_tools

    def _render(
        self, messages: list[ChatMessage], tools: list[ToolSpec], *, generation_prompt: bool
    ) -> list[int]:
        self._format.add_generation_prompt = generation_prompt
        rendered = self._format(
            messages=[template_message(m) for m in messages],  # type: ignore[misc]
            tools=[template_tool(t) for t in tools] or None,  # type: ignore[misc]
        )
        return self._tokenize(rendered.prompt)
