"""Whether the caller is leaving: asked before a model's `end_call` hangs up.

A small model reaches for `end_call` when the caller asks for something it has no tool for:
Qwen2.5-Coder-0.5B (`qwen`) did on "I'd like to book an appointment", "I want to
sign up for the Fast plan" and "I want to book an oil change" (3 of the 30 evaluation
questions, `bench/llm_eval.py`). Hanging up on a caller cannot be taken back, so for a model
that says it needs it (`ChecksHangUps`) the caller's last words are put to the same model as
one yes/no question under a JSON grammar. A no refuses the hang-up: the call stays in the
call's record, is taken out of the model's history, and the model answers the caller again
with no tools offered (told of the refusal as a tool result, the model read the refusal
out). A check that cannot be made lets the model's call stand, as before checks.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.engine.conversation import Conversation
from app.engine.transcript import TranscriptLog
from app.providers.base import (
    ChatMessage,
    ChecksHangUps,
    GenerationOptions,
    JsonLanguageModel,
    LanguageModel,
)

CHECK_TIMEOUT_S = 3.0
QUESTION = (
    "You judge one line of a phone call. Say whether the caller is saying goodbye or asking to "
    "end the call now (true), or still wants something: a question, a booking, a sign-up, help "
    "(false)."
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"caller_is_leaving": {"type": "boolean"}},
    "required": ["caller_is_leaving"],
}
OPTIONS = GenerationOptions(temperature=0.0, max_tokens=20)
REFUSED = "the caller has not said goodbye: do not end the call, answer what they asked"


def checked(llm: LanguageModel) -> JsonLanguageModel | None:
    """`llm`, if its hang-ups are to be checked and it can answer the check."""
    wants = isinstance(llm, ChecksHangUps) and llm.checks_hang_ups
    return llm if wants and isinstance(llm, JsonLanguageModel) else None


def last_words(conversation: Conversation) -> str:
    for message in reversed(conversation.messages):
        if message.role == "user":
            return message.content.strip()
    return ""


async def caller_is_leaving(
    llm: LanguageModel, conversation: Conversation, log: TranscriptLog
) -> bool:
    """False only when the model, asked, says the caller's last words are not a goodbye."""
    model = checked(llm)
    words = last_words(conversation)
    if model is None or not words:
        return True
    messages = [ChatMessage("system", QUESTION), ChatMessage("user", f'The caller said: "{words}"')]
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            reply = await model.complete_json(messages, SCHEMA, OPTIONS)
        leaving = json.loads(reply)["caller_is_leaving"]
    except Exception as error:  # no answer, or not the schema's: the model's call stands
        log.event("hang_up_check_failed", error=repr(error)[:300])
        return True
    if leaving is not False:
        return True
    log.event("end_call_refused", caller=words)
    log.count("end_calls_refused")
    return False
