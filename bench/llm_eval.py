"""`python -m bench.llm_eval`: the offline language models judged side by side, section 11 of
`bench/RESULTS.md` (replaced in place; the other sections are left as they were).

For SmolLM2-135M (`smollm2`) and Qwen2.5-Coder-0.5B (`qwen`), greedy, 2 threads, each agent's
system prompt prefix-cached as in a call: the 30 questions of `llm_cases.py` (required and
forbidden words), the warm first token and tokens per second of those replies, the labelled
tool-choice cases (the right tool with the right arguments, or no tool), and post-call analysis
under the reply's JSON-schema grammar (the right outcome, before and after the rules).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.analysis.post_call import (
    AnalysisRequest,
    TranscriptLine,
    analysis_messages,
    apply_rules,
    parse_reply,
    reply_schema,
)
from app.analysis.runs import ANSWER_MAX_TOKENS
from app.config.agent import AgentConfig
from app.engine.conversation import END_CALL, Conversation
from app.engine.leaving import caller_is_leaving
from app.engine.system_tools import end_call_spec
from app.engine.transcript import TranscriptLog
from app.providers.base import ChatMessage, GenerationOptions, TextDelta, ToolCall, ToolSpec
from app.providers.llama.llm import LlamaLanguageModel
from app.providers.llama.model_files import QWEN, SMOLLM2, qwen_path, smollm2_path
from app.settings import Settings
from bench.llm_cases import (
    AGENTS,
    ANALYSIS_CASES,
    QUESTIONS,
    TOOL_AGENT,
    TOOL_CASES,
    TOOLS,
    Question,
    ToolCase,
)
from bench.llm_report import render_llm
from bench.sections import OFFLINE_LLM, splice_section

ANSWER = GenerationOptions(temperature=0.0, max_tokens=60)
TOOL_TURN = GenerationOptions(temperature=0.0, max_tokens=80)
RESULTS = Path(__file__).with_name("RESULTS.md")
# Each model's run is kept here, so models can be judged in separate processes and reported
# together (`--report-only`).
SAVED_DIR = Path("/tmp/velox-llm-eval")


def _saved(name: str) -> Path:
    SAVED_DIR.mkdir(exist_ok=True)
    return SAVED_DIR / f"{name}.pickle"


def _normalized(text: str) -> str:
    return " ".join(text.lower().replace("$", " ").replace(",", "").split())


def says(text: str, phrase: str) -> bool:
    return (
        re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", _normalized(text)) is not None
    )


def judged(question: Question, reply: str) -> bool:
    return all(any(says(reply, p) for p in group) for group in question.required) and not any(
        says(reply, p) for p in question.forbidden
    )


def tool_right(case: ToolCase, calls: list[ToolCall]) -> bool:
    if case.tool is None:
        return not calls
    if len(calls) != 1 or calls[0].name != case.tool:
        return False
    given = calls[0].arguments
    return all(want in str(given.get(key, "")).lower() for key, want in case.arguments.items())


@dataclass
class ModelRun:
    name: str
    load_s: float = 0.0
    threads: int = 2
    answers: list[tuple[Question, str, bool]] = field(default_factory=list)
    first_token_ms: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    tools: list[tuple[ToolCase, str, bool]] = field(default_factory=list)
    analyses: list[tuple[str, str, str, bool]] = field(default_factory=list)  # want, model, ruled
    # Questions the model answered with a tool call (`end_call` is offered, as on every call):
    # the question, and what the call came to (refused by the check, hung up, another tool).
    tool_answers: list[tuple[str, str]] = field(default_factory=list)


async def _reply(
    llm: LlamaLanguageModel,
    messages: list[ChatMessage],
    tools: list[ToolSpec],
    options: GenerationOptions,
) -> tuple[str, list[ToolCall], float, float]:
    """Text, tool calls, seconds to the first event, and text events per second after it."""
    started = time.perf_counter()
    first = last = None
    text: list[str] = []
    calls: list[ToolCall] = []
    async for event in llm.stream(messages, tools, options):
        now = time.perf_counter()
        first = first if first is not None else now
        last = now
        if isinstance(event, TextDelta):
            text.append(event.text)
        else:
            calls.append(event)
    first_s = (first or time.perf_counter()) - started
    rate = (
        (len(text) - 1) / (last - first)
        if first and last and last > first and len(text) > 1
        else 0.0
    )
    return "".join(text), calls, first_s, rate


async def _evaluate(
    llm: LlamaLanguageModel, run: ModelRun, log: list[str], parts: frozenset[str]
) -> None:
    if "answers" in parts:
        run.answers, run.first_token_ms, run.tokens_per_s = [], [], []
        await _answers(llm, run, log)
    if "tools" in parts:
        run.tools = []
        await _tools(llm, run, log)
    if "analysis" in parts:
        run.analyses = []
        await _analyses(llm, run, log)


async def _answers(llm: LlamaLanguageModel, run: ModelRun, log: list[str]) -> None:
    tools = [end_call_spec()]  # offered on every call
    run.tool_answers = []
    for agent, prompt in AGENTS.items():
        # The agent's first call: its system prompt is evaluated and cached, as in the service.
        await _reply(
            llm, [ChatMessage("system", prompt), ChatMessage("user", "Hello?")], tools, ANSWER
        )
        for question in (q for q in QUESTIONS if q.agent == agent):
            messages = [ChatMessage("system", prompt), ChatMessage("user", question.text)]
            text, calls, first_s, rate = await _reply(llm, messages, tools, ANSWER)
            if calls:
                text = await _after_tool_calls(llm, run, question, messages, text, calls)
            right = judged(question, text)
            run.answers.append((question, text.strip(), right))
            run.first_token_ms.append(first_s * 1000)
            if rate:
                run.tokens_per_s.append(rate)
            _note(
                log, f"{run.name} {'OK ' if right else 'BAD'} {question.text!r} -> {text.strip()!r}"
            )


async def _after_tool_calls(
    llm: LlamaLanguageModel,
    run: ModelRun,
    question: Question,
    messages: list[ChatMessage],
    text: str,
    calls: list[ToolCall],
) -> str:
    """What the caller hears when the model answers a question with tool calls, as in a call:
    `end_call` checked (`app/engine/leaving.py`) and, refused, taken back; a tool it made up
    taken back; either way the question answered again in words (`app/engine/answering.py`)."""
    if any(call.name == END_CALL for call in calls):
        conversation = Conversation(messages[0].content)
        conversation.add_user(question.text)
        if await caller_is_leaving(llm, conversation, TranscriptLog(started=time.monotonic())):
            run.tool_answers.append((question.text, "hung up"))
            return text
        run.tool_answers.append((question.text, "refused by the check"))
    else:
        run.tool_answers.append((question.text, "made-up tool: " + calls[0].name))
    again, _, _, _ = await _reply(llm, messages, [], ANSWER)
    return f"{text} {again}".strip()


async def _tools(llm: LlamaLanguageModel, run: ModelRun, log: list[str]) -> None:
    tools = [ToolSpec(t["name"], t["description"], t["parameters"]) for t in TOOLS]
    for case in TOOL_CASES:
        messages = [ChatMessage("system", TOOL_AGENT), ChatMessage("user", case.text)]
        text, calls, _, _ = await _reply(llm, messages, tools, TOOL_TURN)
        shown = "; ".join(f"{c.name}({json.dumps(c.arguments)})" for c in calls) or repr(
            text.strip()
        )
        run.tools.append((case, shown, tool_right(case, calls)))
        _note(
            log, f"{run.name} tool {'OK ' if run.tools[-1][2] else 'BAD'} {case.text!r} -> {shown}"
        )


async def _analyses(llm: LlamaLanguageModel, run: ModelRun, log: list[str]) -> None:
    config = AgentConfig.model_validate({"name": "Sam from Acme"})
    for analysis_case in ANALYSIS_CASES:
        request = AnalysisRequest(
            agent_name=config.name,
            direction="outbound",
            duration_secs=40.0,
            lines=tuple(TranscriptLine(role, said) for role, said in analysis_case.lines),
            answered_by=None,
            config=config,
            started_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        )
        options = GenerationOptions(temperature=0.0, max_tokens=ANSWER_MAX_TOKENS)
        reply = await llm.complete_json(analysis_messages(request), reply_schema(config), options)
        analysis = parse_reply(reply, config, started_at=request.started_at)
        own = analysis.outcome.value
        apply_rules(request, analysis)
        want = analysis_case.outcome.value
        run.analyses.append((want, own, analysis.outcome.value, analysis.outcome.value == want))
        _note(log, f"{run.name} analysis want {want} model {own} ruled {analysis.outcome.value}")


def rejudged(run: ModelRun) -> ModelRun:
    """The saved replies judged again by the questions as they now stand in `llm_cases.py`."""
    current = {(q.agent, q.text): q for q in QUESTIONS}
    answers = []
    for question, reply, _ in run.answers:
        now = current[(question.agent, question.text)]
        answers.append((now, reply, judged(now, reply)))
    run.answers = answers
    return run


def _note(log: list[str], line: str) -> None:
    log.append(line)
    print(line, flush=True)


def _load(name: str, threads: int) -> LlamaLanguageModel:
    if name == "qwen":
        return LlamaLanguageModel(
            QWEN, qwen_path(Settings().models_dir), calls_tools=True, n_threads=threads
        )
    return LlamaLanguageModel(SMOLLM2, smollm2_path(), calls_tools=False, n_threads=threads)


PARTS = ("answers", "tools", "analysis")


async def run_llm_eval(
    names: list[str], log: list[str], threads: int = 2, parts: frozenset[str] = frozenset(PARTS)
) -> list[ModelRun]:
    """Each model judged on `parts`; the other parts are kept from its saved run."""
    runs = []
    for name in names:
        llm = _load(name, threads)
        saved = _saved(name)
        run = ModelRun(name, load_s=llm.load_seconds, threads=threads)
        if parts != frozenset(PARTS) and saved.exists():
            run = pickle.loads(saved.read_bytes())
        if "answers" in parts:  # the timings come from the answers
            run.threads, run.load_s = threads, llm.load_seconds
        await _evaluate(llm, run, log, parts)
        runs.append(run)
        _saved(name).write_bytes(pickle.dumps(run))
        print(
            f"{name}: {sum(r for *_, r in run.answers)}/{len(run.answers)} answers, "
            f"{sum(r for *_, r in run.tools)}/{len(run.tools)} tool cases, "
            f"{sum(r for *_, r in run.analyses)}/{len(run.analyses)} analyses, first token "
            f"p50 {statistics.median(run.first_token_ms):.0f} ms",
            flush=True,
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="smollm2,qwen")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="llama.cpp threads (the service uses 2; 1 on a crowded machine, where two threads "
        "spin waiting for each other)",
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help="which of answers,tools,analysis to run"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="report the models' saved runs (their answers judged again), run nothing",
    )
    args = parser.parse_args()
    names = args.models.split(",")
    if args.report_only:
        runs = [rejudged(pickle.loads(_saved(name).read_bytes())) for name in names]
    else:
        parts = frozenset(args.parts.split(","))
        runs = asyncio.run(run_llm_eval(names, [], args.threads, parts))
    block = render_llm(runs)
    print(block)
    if not args.no_write:
        existing = RESULTS.read_text() if RESULTS.exists() else ""
        RESULTS.write_text(splice_section(existing, block, OFFLINE_LLM))


if __name__ == "__main__":
    main()
