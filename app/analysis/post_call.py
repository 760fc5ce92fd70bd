"""Post-call analysis: what the agent's language model is asked about a finished call, and what
its answer must be before it is stored.

The model gets the transcript and the agent's data-collection fields and evaluation criteria
(prompts from `templates/analysis/`) and answers with one JSON object: summary, title,
sentiment, outcome, whether the call succeeded, the fields, the criteria. The reply is checked
here, value by value: a wrong type or an unknown word becomes "unknown"/None and is named in
`invalid`, so one sloppy field never throws the rest away. What must not depend on a model is
decided by rules: an answering machine's calls are not sent to the model at all, and a person
who says "remove me" gets the `do_not_call` outcome whatever the model thought.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.analysis.templates import render
from app.config.agent import AgentConfig
from app.providers.base import ChatMessage
from campaigns.do_not_call import asks_not_to_be_called
from campaigns.outcomes import Outcome
from campaigns.voicemail import Answerer, answerer_from_twilio

SENTIMENTS = ("positive", "neutral", "negative")
VERDICTS = ("success", "failure", "unknown")
# What a person-reached call can end as; carrier outcomes (no answer, busy...) are not the
# model's to choose.
OUTCOME_MEANINGS = {
    Outcome.MEETING_BOOKED: "a meeting, appointment or demo was booked",
    Outcome.INTERESTED: "they are interested but nothing was booked yet",
    Outcome.NOT_INTERESTED: "they declined",
    Outcome.CALL_BACK: "they asked to be called back later",
    Outcome.WRONG_NUMBER: "the wrong person or a wrong number",
    Outcome.DO_NOT_CALL: "they asked not to be called again",
    Outcome.COMPLETED: "none of the above (for example a question answered)",
}
SUMMARY_MAX_CHARS = 1200
TITLE_MAX_CHARS = 100
RATIONALE_MAX_CHARS = 300
# The transcript sent to the model is cut to this many characters (its start and its end are
# kept): the offline model reads 2048 tokens in all.
TRANSCRIPT_MAX_CHARS = 4000
LINE_MAX_CHARS = 800
SPEAKERS = {"agent": "Agent", "user": "Caller"}


class InvalidAnalysisReplyError(ValueError):
    """The model's reply is not a JSON object at all."""


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    role: str  # "agent" or "user"
    text: str


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """Everything about one call that its analysis reads."""

    agent_name: str
    direction: str  # inbound or outbound
    duration_secs: float
    lines: tuple[TranscriptLine, ...]
    answered_by: str | None
    config: AgentConfig
    # When the call began, in the zone of the person called (a campaign lead's zone; UTC for
    # other calls): a call back they asked for "tomorrow at three" is read against it.
    started_at: datetime | None = None

    @property
    def person_spoke(self) -> bool:
        return any(line.role == "user" and line.text.strip() for line in self.lines)


@dataclass
class ModelAnalysis:
    """The model's answer, checked."""

    summary: str
    title: str
    sentiment: str
    outcome: Outcome
    call_successful: str
    data: dict[str, Any]
    criteria: dict[str, dict[str, str]]
    invalid: list[str] = field(default_factory=list)
    # When the person asked to be called back (only with the `call_back` outcome), in UTC.
    call_back_at: datetime | None = None


# A local date and time as the model writes it; the zone is the call's.
_LOCAL_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$"
# A call back further out than this is taken for a misreading.
CALL_BACK_HORIZON = timedelta(days=366)


def _prose(shortest: int, longest: int) -> str:
    """Sentences, not markup: a capital first, then plain text (a grammar keeps a small model
    from starting a summary with a brace or a URL)."""
    return f"^[A-Z][A-Za-z0-9 ,.;:'!?()%$&/-]{{{shortest - 1},{longest - 1}}}$"


def reply_schema(config: AgentConfig) -> dict[str, Any]:
    """The JSON schema of the reply (llama.cpp turns it into a grammar the offline model must
    follow; cloud models get JSON mode and the same keys in the prompt)."""
    properties: dict[str, Any] = {
        "summary": {"type": "string", "pattern": _prose(20, 400)},
        "title": {"type": "string", "pattern": _prose(3, 80)},
        "sentiment": {"enum": list(SENTIMENTS)},
        "outcome": {"enum": [o.value for o in OUTCOME_MEANINGS]},
        "call_successful": {"enum": list(VERDICTS)},
        "call_back_at": {"anyOf": [{"type": "string", "pattern": _LOCAL_TIME}, {"type": "null"}]},
    }
    data_fields = config.platform_settings.data_collection
    if data_fields:
        properties["data"] = {
            "type": "object",
            "properties": {
                name: {"anyOf": [{"type": spec.type}, {"type": "null"}]}
                for name, spec in data_fields.items()
            },
            "required": list(data_fields),
            "additionalProperties": False,
        }
    criteria = config.platform_settings.evaluation.criteria
    if criteria:
        verdict = {
            "type": "object",
            "properties": {
                "result": {"enum": list(VERDICTS)},
                "rationale": {"type": "string", "maxLength": 200},
            },
            "required": ["result", "rationale"],
            "additionalProperties": False,
        }
        properties["criteria"] = {
            "type": "object",
            "properties": {criterion.id: verdict for criterion in criteria},
            "required": [criterion.id for criterion in criteria],
            "additionalProperties": False,
        }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _transcript_lines(lines: Sequence[TranscriptLine]) -> tuple[list[dict[str, str]], bool]:
    """The lines to show, middle dropped when the whole would pass `TRANSCRIPT_MAX_CHARS` (a
    line longer than `LINE_MAX_CHARS` is cut, never dropped)."""
    shown = [
        {
            "speaker": SPEAKERS.get(line.role, line.role),
            "text": _cut(" ".join(line.text.split()), LINE_MAX_CHARS),
        }
        for line in lines
        if line.text.strip()
    ]
    size = sum(len(line["text"]) + 10 for line in shown)
    if size <= TRANSCRIPT_MAX_CHARS:
        return shown, False
    head: list[dict[str, str]] = []
    tail: list[dict[str, str]] = []
    budget = TRANSCRIPT_MAX_CHARS
    for line in shown:  # the first third from the start, the rest from the end
        if budget - len(line["text"]) < TRANSCRIPT_MAX_CHARS * 2 // 3:
            break
        head.append(line)
        budget -= len(line["text"]) + 10
    for line in reversed(shown[len(head) :]):
        if budget - len(line["text"]) < 0:
            break
        tail.insert(0, line)
        budget -= len(line["text"]) + 10
    return head + tail, True


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def analysis_messages(request: AnalysisRequest) -> list[ChatMessage]:
    """The system prompt and the transcript, from `templates/analysis/`."""
    settings = request.config.platform_settings
    started = request.started_at
    system = render(
        "analysis/call_analysis_system.j2",
        agent_name=request.agent_name,
        direction=request.direction,
        started=None
        if started is None
        else {
            "day": started.strftime("%A %d %B %Y"),
            "time": started.strftime("%H:%M"),
            "zone": str(started.tzinfo),
        },
        outcomes=[
            {"value": outcome.value, "meaning": meaning}
            for outcome, meaning in OUTCOME_MEANINGS.items()
        ],
        data_fields=[
            {"id": name, "type": spec.type, "description": spec.description or name}
            for name, spec in settings.data_collection.items()
        ],
        criteria=[
            {"id": c.id, "goal": c.conversation_goal_prompt or c.name or c.id}
            for c in settings.evaluation.criteria
        ],
    )
    lines, omitted = _transcript_lines(request.lines)
    transcript = render(
        "analysis/call_analysis_transcript.j2",
        direction=request.direction,
        duration_secs=request.duration_secs,
        lines=lines,
        omitted=omitted,
    )
    return [ChatMessage("system", system), ChatMessage("user", transcript)]


def _json_object(text: str) -> dict[str, Any]:
    """The JSON object in `text` (a model may wrap it in prose or a code fence)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise InvalidAnalysisReplyError(f"no JSON object in the reply: {text[:200]!r}")
    try:
        # strict=False: a raw newline inside a string (a small model writes them) is kept.
        value = json.loads(text[start : end + 1], strict=False)
    except json.JSONDecodeError as error:
        raise InvalidAnalysisReplyError(f"the reply is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise InvalidAnalysisReplyError("the reply is not a JSON object")
    return value


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _word(value: object) -> str:
    return re.sub(r"[\s-]+", "_", str(value).strip().lower())


def _choice(value: object, allowed: Sequence[str], default: str, name: str, bad: list[str]) -> str:
    word = _word(value)
    if word in allowed:
        return word
    bad.append(name)
    return default


def _text(value: object, limit: int, name: str, bad: list[str]) -> str:
    if not isinstance(value, str):
        bad.append(name)
        return ""
    return " ".join(value.split())[:limit]


def _typed(value: object, kind: str) -> object:
    """`value` as the field's JSON type, or raise ValueError."""
    if value is None:
        return None
    if kind == "string":
        return " ".join(str(value).split())[:500]
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if _word(value) in ("true", "yes"):
            return True
        if _word(value) in ("false", "no"):
            return False
        raise ValueError(value)
    if isinstance(value, bool):
        raise ValueError(value)
    number = float(value) if isinstance(value, int | float | str) else float("nan")
    if not math.isfinite(number):  # NaN or infinite: JSON columns cannot hold it
        raise ValueError(value)
    if kind == "integer":
        if not number.is_integer():
            raise ValueError(value)
        return int(number)
    return number


def parse_reply(
    text: str, config: AgentConfig, *, started_at: datetime | None = None
) -> ModelAnalysis:
    """The model's reply checked against what was asked (see the module docstring).
    `started_at` (aware, in the person's zone) reads the call-back time."""
    reply = _json_object(text)
    bad: list[str] = []
    outcome_word = _choice(
        reply.get("outcome"), [o.value for o in OUTCOME_MEANINGS], "completed", "outcome", bad
    )
    call_back_at = None
    if outcome_word == Outcome.CALL_BACK.value:
        call_back_at = _call_back_time(reply.get("call_back_at"), started_at, bad)
    data: dict[str, Any] = {}
    given = _object(reply.get("data"))
    for name, spec in config.platform_settings.data_collection.items():
        try:
            data[name] = _typed(given.get(name), spec.type)
        except (ValueError, TypeError, OverflowError):
            data[name] = None
            bad.append(f"data.{name}")
    criteria: dict[str, dict[str, str]] = {}
    judged = _object(reply.get("criteria"))
    for criterion in config.platform_settings.evaluation.criteria:
        verdict = _object(judged.get(criterion.id))
        name = f"criteria.{criterion.id}"
        criteria[criterion.id] = {
            "result": _choice(verdict.get("result"), VERDICTS, "unknown", name, bad),
            "rationale": _text(verdict.get("rationale", ""), RATIONALE_MAX_CHARS, name, bad),
        }
    return ModelAnalysis(
        summary=_text(reply.get("summary"), SUMMARY_MAX_CHARS, "summary", bad),
        title=_text(reply.get("title"), TITLE_MAX_CHARS, "title", bad),
        sentiment=_choice(reply.get("sentiment"), SENTIMENTS, "neutral", "sentiment", bad),
        outcome=Outcome(outcome_word),
        call_successful=_choice(
            reply.get("call_successful"), VERDICTS, "unknown", "call_successful", bad
        ),
        data=data,
        criteria=criteria,
        invalid=sorted(set(bad)),
        call_back_at=call_back_at,
    )


def _call_back_time(value: object, started_at: datetime | None, bad: list[str]) -> datetime | None:
    """The call-back time the model read, as UTC: a local time in the call's zone, after the
    call began and within a year of it; anything else is None (and named when not null)."""
    if value is None or started_at is None or started_at.tzinfo is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(_LOCAL_TIME, value):
        bad.append("call_back_at")
        return None
    try:
        local = datetime.fromisoformat(value).replace(tzinfo=started_at.tzinfo)
    except ValueError:
        bad.append("call_back_at")
        return None
    if not started_at < local <= started_at + CALL_BACK_HORIZON:
        bad.append("call_back_at")
        return None
    return local.astimezone(UTC)


def without_model(request: AnalysisRequest, voicemail_left: bool) -> ModelAnalysis | None:
    """The analysis of a call there is nothing to ask a model about: an answering machine, or
    nobody on the line said a word. None when the model is needed."""
    answerer = answerer_from_twilio(request.answered_by)
    if answerer is Answerer.FAX:
        return ruled(request.config, "A fax machine answered.", "Fax", Outcome.FAX)
    if answerer is Answerer.MACHINE and voicemail_left:
        summary = "An answering machine picked up; the agent left the campaign's message."
        return ruled(request.config, summary, "Answering machine", Outcome.VOICEMAIL)
    if answerer is Answerer.MACHINE:
        summary = "An answering machine picked up."
        return ruled(request.config, summary, "Answering machine", Outcome.ANSWERED_BY_MACHINE)
    if not request.person_spoke:
        summary = "The other party said nothing the agent could hear."
        return ruled(request.config, summary, "No response", Outcome.COMPLETED)
    return None


def ruled(config: AgentConfig, summary: str, title: str, outcome: Outcome) -> ModelAnalysis:
    """An analysis no model wrote: neutral, success unknown, no field found, nothing judged."""
    return ModelAnalysis(
        summary=summary,
        title=title,
        sentiment="neutral",
        outcome=outcome,
        call_successful="unknown",
        data=dict.fromkeys(config.platform_settings.data_collection),
        criteria={
            c.id: {"result": "unknown", "rationale": "no model judged this call"}
            for c in config.platform_settings.evaluation.criteria
        },
    )


def apply_rules(request: AnalysisRequest, analysis: ModelAnalysis) -> list[str]:
    """Overrule the model where a rule knows better; returns the rules that fired."""
    fired: list[str] = []
    said = [line.text for line in request.lines if line.role == "user"]
    if analysis.outcome is not Outcome.DO_NOT_CALL and any(map(asks_not_to_be_called, said)):
        analysis.outcome = Outcome.DO_NOT_CALL
        fired.append("asked_not_to_be_called")
    return fired
