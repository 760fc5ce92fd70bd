"""Per-turn figures the service itself recorded, read back through the conversations API.

Conversations are read one at a time: on SQLite, every authenticated request writes the API
key's `last_used_at`, and concurrent reads then fail with "database is locked".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

METRIC_KEYS = (
    "end_of_speech_to_endpoint_ms",
    "stt_final_ms",
    "llm_first_token_ms",
    "tts_first_byte_ms",
    "voice_to_voice_ms",
)


@dataclass
class SavedTurns:
    turns: list[dict[str, float]] = field(default_factory=list)
    failed_reads: list[str] = field(default_factory=list)


async def user_turn_metrics(
    base_url: str, api_key: str, conversation_ids: list[str], *, wait_s: float = 15.0
) -> SavedTurns:
    """`velox_metrics` of every answered voice turn of these (ended) conversations."""
    saved = SavedTurns()
    bodies = await ended_conversations(
        base_url, api_key, conversation_ids, saved.failed_reads, wait_s=wait_s
    )
    for body in bodies.values():
        for entry in body.get("transcript", []):
            metrics = entry.get("velox_metrics") or {}
            if entry.get("role") == "user" and metrics.get("voice_to_voice_ms") is not None:
                saved.turns.append(
                    {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
                )
    return saved


async def ended_conversations(
    base_url: str,
    api_key: str,
    conversation_ids: list[str],
    failed_reads: list[str],
    *,
    wait_s: float = 15.0,
) -> dict[str, dict[str, Any]]:
    """These conversations as `GET /v1/convai/conversations/{id}` returns them once ended;
    one line per conversation that could not be read goes to `failed_reads`."""
    bodies: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(
        base_url=base_url, headers={"xi-api-key": api_key}, timeout=30
    ) as http:
        for conversation_id in filter(None, conversation_ids):
            try:
                bodies[conversation_id] = await _ended_conversation(http, conversation_id, wait_s)
            except httpx.HTTPError as error:
                failed_reads.append(f"{conversation_id}: {type(error).__name__} {error}")
    return bodies


async def _ended_conversation(
    http: httpx.AsyncClient, conversation_id: str, wait_s: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        response = await http.get(f"/v1/convai/conversations/{conversation_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body.get("status") in ("done", "failed") or loop.time() > deadline:
            return body
        await asyncio.sleep(0.2)
