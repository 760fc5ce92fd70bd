"""Sections of `bench/RESULTS.md` that a `--only` run replaces, leaving the rest as it was.

Each such section sits between two HTML comments (`<!-- name:begin -->`, `<!-- name:end -->`).
A section not yet in the file goes before the next such section that is there (in the order of
`SECTIONS`), else before the file-wide "How it is measured", else at the end.
"""

from __future__ import annotations

from pathlib import Path

# The replaceable sections, in their order in the file: 3. voice-to-voice on the offline stack
# (`python -m bench --only offline`; also by a full run), 4. conversational feel, 5. the dialer,
# 6. barge-in under repetition and load, 7. the call list, search, analytics and export,
# 8. recording cost, 9. the field app's shell and reconnect, 10. the web dashboard's speed,
# 11. knowledge-base retrieval.
# 12. the offline language models (`python -m bench.llm_eval`).
# 13. offline speech recognition (`python -m bench.offline_stt`).
# 14. tenant isolation under rate limits (`python -m bench.tenant_isolation`).
# 15. fuzzing (`make fuzz`, `python -m bench.fuzz`).
# 16. SIP trunk calls (`python -m bench.sip_load`; also run by `python -m bench`).
# 17. a provider outage (`python -m bench.outage`). 18. the soak (`python -m bench.soak`).
OFFLINE_VOICE = "offline-voice"
FEEL = "feel"
DIALER = "dialer"
STRESS = "barge-in-stress"
QUERIES = "call-queries"
RECORDING = "recording"
FIELD_APP = "field-app"
DASHBOARD = "dashboard"
KNOWLEDGE = "knowledge"
OFFLINE_LLM = "offline-llm"
OFFLINE_STT = "offline-stt"
TENANT_ISOLATION = "tenant-isolation"
FUZZ = "fuzz"
SIP = "sip-load"
OUTAGE = "outage"
SOAK = "soak"
SECTIONS = (
    OFFLINE_VOICE,
    FEEL,
    DIALER,
    STRESS,
    QUERIES,
    RECORDING,
    FIELD_APP,
    DASHBOARD,
    KNOWLEDGE,
    OFFLINE_LLM,
    OFFLINE_STT,
    TENANT_ISOLATION,
    FUZZ,
    SIP,
    OUTAGE,
    SOAK,
)
# The file-wide method section; a section's own "### How it is measured" must not match it.
FILE_METHOD_HEADING = "\n## How it is measured"


def markers(name: str) -> tuple[str, str]:
    """The begin and end comments of the section called `name`."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def splice_section(existing: str, block: str, name: str) -> str:
    """`existing` with its `name` section replaced by `block` (or `block` inserted)."""
    begin, end = markers(name)
    later = SECTIONS[SECTIONS.index(name) + 1 :]
    before = [markers(section)[0] for section in later] + [FILE_METHOD_HEADING]
    if begin in existing and end in existing:
        head, _, rest = existing.partition(begin)
        _, _, tail = rest.partition(end)
        return head + block.strip() + tail
    for anchor in before:
        if anchor in existing:
            head, _, tail = existing.partition(anchor)
            return head.rstrip() + "\n\n" + block.strip() + "\n" + anchor + tail
    return existing.rstrip() + "\n\n" + block.strip() + "\n"


def section_of(path: Path, name: str) -> str | None:
    """The `name` section of the RESULTS.md at `path`, markers included, if it has one."""
    if not path.exists():
        return None
    text = path.read_text()
    begin, end = markers(name)
    if begin not in text or end not in text:
        return None
    return begin + text.partition(begin)[2].partition(end)[0] + end
