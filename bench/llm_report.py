"""Section 11 of `bench/RESULTS.md`: the offline language models side by side."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from bench.machine import this_machine
from bench.sections import OFFLINE_LLM, markers

if TYPE_CHECKING:
    from bench.llm_eval import ModelRun

# The targets of issue 20: the default model's answers and tool choices, its warm first token.
ANSWERS_TARGET = 27
TOOLS_TARGET = 0.90
WARM_FIRST_TOKEN_TARGET_MS = 150


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _count(results: list[bool]) -> str:
    return f"{sum(results)}/{len(results)}"


def _tool_answers(run: ModelRun) -> str:
    outcomes = [outcome for _, outcome in run.tool_answers]
    refused = outcomes.count("refused by the check")
    hung_up = outcomes.count("hung up")
    return f"{refused} / {hung_up} / {len(outcomes) - refused - hung_up}"


def render_llm(runs: list[ModelRun]) -> str:
    begin, end = markers(OFFLINE_LLM)
    names = [run.name for run in runs]
    threads = ", ".join(sorted({str(run.threads) for run in runs}))
    lines = [
        begin,
        "## 12. Offline language models: answers from the prompt's facts, tools, analysis",
        "",
        f"`python -m bench.llm_eval` on {this_machine().describe()} (at the end of the run); "
        f"llama.cpp, {threads} thread(s) (the service uses 2), greedy. Timings depend on what "
        "else the machine was doing (its load average above); the counts do not. Each question "
        "is asked as on a call: with `end_call` offered, a hang-up checked by the model "
        "(`app/engine/leaving.py`) and, when refused, answered again.",
        "",
        "| | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
        "| receptionist and sales answers right (target ≥ 27/30) | "
        + " | ".join(_count([r for *_, r in run.answers]) for run in runs)
        + " |",
        "| questions answered with a tool call: hang-up refused by the check / hung up / a "
        "made-up tool | " + " | ".join(_tool_answers(run) for run in runs) + " |",
        "| tool choice and arguments right (target ≥ 90%) | "
        + " | ".join(
            f"{_count([r for *_, r in run.tools])} "
            f"({100 * sum(r for *_, r in run.tools) / max(1, len(run.tools)):.0f}%)"
            for run in runs
        )
        + " |",
        "| post-call outcome right, the model's own / after the rules | "
        + " | ".join(
            f"{sum(own == want for want, own, _, _ in run.analyses)}/{len(run.analyses)} / "
            f"{_count([r for *_, r in run.analyses])}"
            for run in runs
        )
        + " |",
        "| warm first token p50 / p95 (system prompt cached; target ≤ 150 ms) | "
        + " | ".join(
            f"{statistics.median(run.first_token_ms):.0f} / {_p95(run.first_token_ms):.0f} ms"
            for run in runs
        )
        + " |",
        "| text pieces streamed per second (median of the 30 replies; a piece is a token, or "
        "several the tool-call reader held back) | "
        + " | ".join(
            f"{statistics.median(run.tokens_per_s):.0f}" if run.tokens_per_s else "–"
            for run in runs
        )
        + " |",
        "| load (cold, file already in the page cache) | "
        + " | ".join(f"{run.load_s:.2f} s" for run in runs)
        + " |",
        "",
        "The 30 questions (`bench/llm_cases.py`): ten for each of three agents whose prompts hold "
        "the facts (a dental receptionist, an internet-plan sales agent, a garage), judged by "
        "words every right answer holds and words a wrong one would (another price, another "
        "hour). SmolLM2 ignores tools, so it scores only the no-tool cases. Outcomes come from "
        "eight labelled calls under the reply's JSON-schema grammar (`app/analysis/post_call.py`).",
        "",
    ]
    for run in runs:
        wrong = [(q, reply) for q, reply, right in run.answers if not right]
        lines.append(f"`{run.name}` answers judged wrong ({len(wrong)}):")
        lines.append("")
        lines += [f"- {q.text} → {reply!r}" for q, reply in wrong] or ["- none"]
        if run.tool_answers:
            lines.append("")
            lines.append(f"`{run.name}` questions answered with a tool call:")
            lines.append("")
            lines += [f"- {question} → {outcome}" for question, outcome in run.tool_answers]
        tool_wrong = [(case, shown) for case, shown, right in run.tools if not right]
        lines.append("")
        lines.append(f"`{run.name}` tool cases wrong ({len(tool_wrong)}):")
        lines.append("")
        lines += [
            f"- {case.text} (wanted {case.tool or 'no tool'}) → {shown}"
            for case, shown in tool_wrong
        ] or ["- none"]
        analysis_wrong = [(w, o, r) for w, o, r, right in run.analyses if not right]
        lines.append("")
        lines.append(f"`{run.name}` outcomes wrong ({len(analysis_wrong)}):")
        lines.append("")
        lines += [f"- wanted {w}, model {o}, after rules {r}" for w, o, r in analysis_wrong] or [
            "- none"
        ]
        lines.append("")
    lines.append(end)
    return "\n".join(lines)
