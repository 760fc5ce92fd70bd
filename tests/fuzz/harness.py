"""What every fuzz target shares: the Hypothesis profiles, the corpus and the mutations.

Two profiles: `ci` (the default, part of `make test`) runs a fixed, derandomized set of cases
so the suite is never flaky; `fuzz` (`make fuzz`, `HYPOTHESIS_PROFILE=fuzz`) runs many random
cases per target (`FUZZ_EXAMPLES`, default 20000) and keeps failing cases in Hypothesis's
example database so a finding replays until it is fixed. `CASES` counts the inputs each target
ran; the conftest prints them (and writes them to `FUZZ_REPORT`, a JSON file, when set).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"
# Work one input may take: CPU time of the thread that handles it, which a loaded machine does
# not stretch (a bound, not a benchmark). Wall time only catches a hang: beside other test
# workers a process can wait seconds for a core without doing anything (CI saw 2.1 s for an
# input that needs a few microseconds).
MAX_CPU_SECONDS_PER_INPUT = 2.0
MAX_WALL_SECONDS_PER_INPUT = 20.0

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ = settings.get_profile(PROFILE if PROFILE in ("ci", "fuzz") else "ci")

CASES: Counter[str] = Counter()


@contextmanager
def case(
    target: str,
    cpu_s: float = MAX_CPU_SECONDS_PER_INPUT,
    wall_s: float = MAX_WALL_SECONDS_PER_INPUT,
) -> Iterator[None]:
    """Count one input of `target`; check this thread worked on it for less than `cpu_s` and
    that it was done within `wall_s`."""
    CASES[target] += 1
    started, work_started = time.monotonic(), time.thread_time()
    yield
    elapsed, work = time.monotonic() - started, time.thread_time() - work_started
    took = f"{target}: one input took {work:.2f} s of CPU, {elapsed:.2f} s in all"
    assert work < cpu_s, took
    assert elapsed < wall_s, took


def check_reason(reason: str) -> None:
    """A refusal's reason: a short stable code, fit to be a counter's label."""
    assert reason.isidentifier(), reason


def seeds(target: str) -> list[bytes]:
    """The corpus files of `target`, in name order (real-looking inputs to start from)."""
    files = sorted(path for path in (CORPUS / target).iterdir() if path.is_file())
    assert files, f"no corpus for {target}"
    return [path.read_bytes() for path in files]


def seed_texts(target: str) -> list[str]:
    return [seed.decode("utf-8") for seed in seeds(target)]


# Bytes that tend to matter to the parsers: separators, quotes, digits, high and odd bytes.
_INTERESTING = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b"\r\n\r\n", b",", b";", b":", b'"', b"=", b" ", b"\t", b"<", b">",
     b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"0", b"99999999999999999999", b"-1", b"{", b"}",
     b"[", b"]", b"{{", b"}}", b"{%", b"%}", b"\\", b"\xe2\x80\xae", b"\xc2\xb2", b"\xd9\xa3"]
)  # fmt: skip
SPLICE = st.tuples(st.integers(0, 1 << 16), _INTERESTING | st.binary(max_size=8))


def spliced(seed: bytes, splices: list[tuple[int, bytes]], cut: int) -> bytes:
    """`seed` with each chunk written over it at a position, then maybe cut short."""
    data = bytearray(seed)
    for at, chunk in splices:
        position = at % (len(data) + 1)
        if at & 1:
            data[position:position] = chunk  # insert
        else:
            data[position : position + len(chunk)] = chunk  # overwrite
    return bytes(data[: max(cut, len(data) // 2)])


def byte_mutants(target: str) -> st.SearchStrategy[bytes]:
    """Corpus seeds mutated byte-wise, plus some wholly random bytes."""
    mutated = st.builds(
        spliced,
        st.sampled_from(seeds(target)),
        st.lists(SPLICE, max_size=6),
        st.integers(0, 1 << 16),
    )
    return st.one_of(st.sampled_from(seeds(target)), mutated, st.binary(max_size=600))


JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", "1", "-1", "00", "1e999", "MZ1", "inbound_track", "like", "\x00"])
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside a JSON document (the root included)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths_of(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths_of(inner, (*prefix, index))
    return found


def replaced(document: object, path: tuple[object, ...], new: object, delete: bool) -> object:
    """A copy of `document` with the value at `path` replaced by `new`, or its key deleted."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        copy = dict(document)
        if delete and not rest:
            del copy[head]
        else:
            copy[head] = replaced(copy[head], rest, new, delete)
        return copy
    assert isinstance(document, list)
    assert isinstance(head, int)
    items = list(document)
    items[head] = replaced(items[head], rest, new, delete)
    return items


@st.composite
def json_mutant(draw: st.DrawFn, document: object) -> object:
    """`document` with up to three of its values replaced by random JSON or deleted."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(document)))
        document = replaced(document, path, draw(JSON_VALUE), draw(st.booleans()))
    return document


@st.composite
def frame_mutants(draw: st.DrawFn, streams: list[list[str]]) -> list[str | bytes]:
    """A WebSocket frame sequence from the corpus with frames mutated as JSON or as bytes, sent
    as binary, dropped or repeated."""
    frames: list[str | bytes] = list(draw(st.sampled_from(streams)))
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(frames) - 1))
        frame = frames[index]
        how = draw(st.sampled_from(["json", "bytes", "binary", "drop", "repeat"]))
        if how == "json" and isinstance(frame, str):
            try:
                document = json.loads(frame)
            except ValueError:
                continue
            frames[index] = json.dumps(draw(json_mutant(document)))
        elif how == "bytes" and isinstance(frame, str):
            raw = spliced(frame.encode(), draw(st.lists(SPLICE, max_size=4)), draw(st.integers()))
            frames[index] = raw.decode("utf-8", "replace")
        elif how == "binary" and isinstance(frame, str):
            frames[index] = frame.encode()
        elif how == "drop" and len(frames) > 1:
            del frames[index]
        else:
            frames.insert(index, frame)
    return frames
