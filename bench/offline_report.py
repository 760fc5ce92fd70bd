"""Section 3 of `bench/RESULTS.md`, voice-to-voice on the offline stack, and its row of the
targets table: written by a full run, and by `python -m bench --only offline`, which replaces
them alone and leaves the rest of the file as it was."""

from __future__ import annotations

from bench.offline import OfflineResult, run_offline
from bench.saved_calls import METRIC_KEYS
from bench.sections import OFFLINE_VOICE, markers, splice_section

# Issue 20's targets for the offline stack, one call at a time.
TARGET_OFFLINE_P50_MS = 700.0
TARGET_OFFLINE_P95_MS = 900.0
ROW_START = "| offline voice-to-voice"


def target_row(offline: OfflineResult) -> str:
    target = (
        f"{ROW_START} p50 ≤ {TARGET_OFFLINE_P50_MS:.0f} ms, p95 ≤ {TARGET_OFFLINE_P95_MS:.0f} ms"
    )
    if offline.unavailable:
        return f"{target} | not measured: {offline.unavailable} | not measured |"
    p50, p95 = offline.response.p50, offline.response.p95
    misses = [
        f"{name} missed by {value - limit:.0f} ms"
        for name, value, limit in (
            ("p50", p50, TARGET_OFFLINE_P50_MS),
            ("p95", p95, TARGET_OFFLINE_P95_MS),
        )
        if value > limit
    ]
    verdict = ", ".join(misses) or "met"
    return f"{target} | p50 {p50:.0f} ms, p95 {p95:.0f} (n={offline.response.count}) | {verdict} |"


def with_target_row(text: str, offline: OfflineResult) -> str:
    """`text` (a RESULTS.md) with its offline voice-to-voice row replaced by `offline`'s."""
    lines = text.split("\n")
    return "\n".join(target_row(offline) if line.startswith(ROW_START) else line for line in lines)


def offline_block(offline: OfflineResult | None, measured: str = "") -> str:
    """Section 3 between its markers; `measured` says by which command, when and where, when it
    was measured apart from the rest of the file."""
    begin, end = markers(OFFLINE_VOICE)
    out = [begin, "## 3. Voice-to-voice on the offline stack\n"]
    add = out.append
    if measured:
        add(f"{measured}\n")
    if offline is None:
        add("Not run (skipped on the command line).\n")
    elif offline.unavailable:
        add(
            f"**Could not be measured yet**: {offline.unavailable}. The harness "
            "(`bench/offline.py`) runs it as soon as the providers are registered.\n"
        )
    else:
        add(
            f"Providers: the product defaults (VAD `{offline.vad}`, STT `whisper`, "
            f"LLM `{offline.llm}`, TTS `piper`) with the agent's default end-of-turn windows, "
            "one call at a time; "
            f"questions are espeak-ng speech of {min(offline.utterance_seconds):.2f}–"
            f"{max(offline.utterance_seconds):.2f} s played in real time.\n"
        )
        add(
            "- voice-to-voice (caller's last speech frame sent → first agent frame received): "
            f"{offline.response.cell()}"
        )
        add(f"- greeting (`start` sent → first agent frame received): {offline.greeting.cell()}")
        add(
            f"- unanswered questions: {offline.responses_missing}; "
            f"call errors: {len(offline.errors)}"
        )
        add("\nPer stage, as the server recorded each turn (`transcript[].velox_metrics`):\n")
        add("| stage | p50 / p95 / max |")
        add("|---|---|")
        for key in METRIC_KEYS:
            add(f"| `{key}` | {offline.stage(key).cell()} |")
        add("")
    add(end)
    return "\n".join(out)


async def offline_only(existing: str, quick: bool, measured: str) -> str:
    """`existing` (a RESULTS.md) with section 3 and its target row measured again."""
    offline = await (run_offline(1, 2) if quick else run_offline(4, 6))
    text = splice_section(existing, offline_block(offline, measured), OFFLINE_VOICE)
    return with_target_row(text, offline)
