"""The prompt-prefix cache of the offline model: llama.cpp's sequence state, saved after a
prompt is evaluated and restored when a later prompt starts with the same tokens.

The key-value state of each agent's system prompt (shared by all its calls) and of each call's
conversation after every reply (one per call, replaced as it grows) is kept, least recently used
evicted first within a byte budget. Saving and restoring go through llama.cpp's C API
(`llama_state_seq_get_data` / `llama_state_seq_set_data` on sequence 0).
"""

from __future__ import annotations

import ctypes
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import llama_cpp
from llama_cpp import Llama

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SavedPrefix:
    tokens: tuple[int, ...]
    kv_state: bytes
    # A system prompt is shared by every call of its agent; a conversation by one call only.
    is_system_prompt: bool


class PrefixCache:
    """Key-value states of evaluated prompt prefixes, least recently used evicted first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, ...], SavedPrefix] = OrderedDict()
        self._bytes = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    def best_match(self, tokens: Sequence[int]) -> tuple[SavedPrefix | None, int]:
        """The saved prefix sharing most leading tokens with `tokens`, and how many it shares."""
        best: SavedPrefix | None = None
        best_length = 0
        for saved in self._entries.values():
            length = common_prefix_length(saved.tokens, tokens)
            if length > best_length:
                best, best_length = saved, length
        if best is not None:
            self._entries.move_to_end(best.tokens)
        return best, best_length

    def put(self, saved: SavedPrefix) -> None:
        """Keep `saved`, replacing the conversation it continues (its call's previous turn)."""
        for key in [
            key
            for key, old in self._entries.items()
            if key == saved.tokens or (not old.is_system_prompt and saved.tokens[: len(key)] == key)
        ]:
            self._bytes -= len(self._entries.pop(key).kv_state)
        self._entries[saved.tokens] = saved
        self._bytes += len(saved.kv_state)
        while self._bytes > self.max_bytes and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.kv_state)


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def restore_longest_prefix(
    llm: Llama, cache: PrefixCache, prompt: list[int], system_tokens: list[int]
) -> None:
    """Bring into the context the longest saved prefix of `prompt`, if it beats what the context
    already holds; a system prompt never seen before is evaluated alone and saved for next time."""
    in_context = common_prefix_length(llm.input_ids[: llm.n_tokens].tolist(), prompt)
    saved, shared = cache.best_match(prompt)
    if saved is not None and shared > in_context:
        if _load(llm, saved):
            cache.hits += 1
            in_context = shared
        else:  # the context was emptied to load it
            in_context = 0
    if system_tokens and in_context < len(system_tokens):
        llm.n_tokens = in_context
        llm.eval(system_tokens[in_context:])
        cache.put(save_prefix(llm, is_system_prompt=True))


def save_prefix(llm: Llama, *, is_system_prompt: bool) -> SavedPrefix:
    """The context's evaluated tokens and their key-value state."""
    ctx = llm._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
    tokens = tuple(llm.input_ids[: llm.n_tokens].tolist())
    return SavedPrefix(tokens, bytes(buffer)[:written], is_system_prompt)


def _load(llm: Llama, saved: SavedPrefix) -> bool:
    llm._ctx.kv_cache_seq_rm(-1, 0, -1)
    buffer = (ctypes.c_uint8 * len(saved.kv_state)).from_buffer_copy(saved.kv_state)
    if llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, buffer, len(saved.kv_state), 0) == 0:
        llm.n_tokens = 0
        log.warning("could not restore a cached prompt prefix; evaluating it again")
        return False
    n = len(saved.tokens)
    llm.input_ids[:n] = saved.tokens
    llm.n_tokens = n
    return True
