"""Post-call analysis applied to the rows: read a finished call, ask the agent's language
models, store what they found, and act on it (a "remove me" joins the do-not-call list, a
campaign call's outcome is refined, the `analysis_ready` webhook is queued).

The analysis worker (workers/analysis.py) calls these; the API reads `analysis_body`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.analysis.metrics import SpokenTurn, call_metrics
from app.analysis.post_call import (
    AnalysisRequest,
    InvalidAnalysisReplyError,
    ModelAnalysis,
    TranscriptLine,
    analysis_messages,
    apply_rules,
    parse_reply,
    reply_schema,
    ruled,
    without_model,
)
from app.calls.pii import redact_pii, redact_pii_value
from app.config.agent import AgentConfig
from app.config.credentials import CredentialBox
from app.db import analyses as analysis_rows
from app.db import call_attempts as attempt_rows
from app.db import do_not_call
from app.db import provider_credentials as credential_queries
from app.db.analyses import ClaimedAnalysis
from app.db.models import CallAnalysis, Turn
from app.db.webhooks import enqueue_event
from app.outbound import campaign_outcomes
from app.outbound.campaign_settings import zone_of_lead
from app.providers.base import GenerationOptions, JsonLanguageModel, ProviderError
from app.providers.call_providers import OFFLINE, chain_names
from app.providers.registry import ProviderRegistry
from campaigns.outcomes import Outcome
from campaigns.phone_numbers import InvalidPhoneNumberError, normalize_phone_number

log = logging.getLogger(__name__)

# One model's whole answer; past this the next model in the agent's chain is asked. A model is
# not asked with less than MIN_MODEL_TIME_S left before the caller's deadline.
MODEL_TIMEOUT_S = 120.0
MIN_MODEL_TIME_S = 5.0
ANSWER_MAX_TOKENS = 600
VOICEMAIL_LEFT_EVENT = "voicemail_left"


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    """One call's analysis, read from the database; nothing in it holds a session."""

    call_id: str
    organization_id: str
    agent_id: str
    external_number: str
    request: AnalysisRequest
    metrics: dict[str, Any]
    voicemail_left: bool
    keys: Mapping[str, str]
    # The call's trace (W3C `traceparent`, saved with it), for the analysis span's link.
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    analysis: ModelAnalysis
    analyzed_by: str
    errors: tuple[str, ...] = ()


class AnalysisUnavailableError(RuntimeError):
    """No model of the agent's chain gave a usable answer."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors) or "no language model is configured")
        self.errors = tuple(errors)


def _with_tools(turn: Turn) -> str:
    """A turn's words and the tools it called with what they answered, for the analysis."""
    results = {r.get("request_id"): r for r in turn.tool_results or []}
    notes = []
    for call in turn.tool_calls or []:
        result = results.get(call.get("request_id"), {})
        answer = str(result.get("result_value", "no result"))[:300]
        failed = " (error)" if result.get("is_error") else ""
        notes.append(
            f"[tool {call.get('tool_name')} {call.get('params_as_json')}{failed}: {answer}]"
        )
    return " ".join([turn.message, *notes]).strip()


def load_job(session: Session, call_id: str, secret: bytes) -> AnalysisJob:
    call, agent, kinds = analysis_rows.call_to_analyze(session, call_id)
    config = AgentConfig.model_validate(agent.config)
    turns = [t for t in call.turns if t.role in ("user", "agent")]
    spoken = [
        SpokenTurn(
            role=t.role,
            started_ms=t.time_in_call_secs * 1000,
            speech_ms=_number(t.metrics.get("speech_ms")),
            interrupted=t.interrupted,
            voice_to_voice_ms=_number(t.metrics.get("voice_to_voice_ms")),
        )
        for t in turns
    ]
    encrypted = credential_queries.encrypted_keys(session, call.organization_id)
    box = CredentialBox(secret)
    return AnalysisJob(
        call_id=call.id,
        organization_id=call.organization_id,
        agent_id=call.agent_id,
        external_number=call.from_number if call.direction == "inbound" else call.to_number,
        request=AnalysisRequest(
            agent_name=config.name,
            direction=call.direction,
            duration_secs=call.duration_secs or 0.0,
            lines=tuple(TranscriptLine(t.role, _with_tools(t)) for t in turns),
            answered_by=call.answered_by,
            config=config,
            started_at=_local_start(session, call.id, call.started_at or call.created_at),
        ),
        metrics=call_metrics(spoken, kinds, call.duration_secs or 0.0),
        voicemail_left=VOICEMAIL_LEFT_EVENT in kinds,
        keys={name: box.decrypt(token) for name, token in encrypted.items()},
        traceparent=(call.metrics or {}).get("traceparent"),
    )


def _local_start(session: Session, call_id: str, started_at: datetime) -> datetime:
    """When the call began, in the zone of the lead it was placed to (UTC for other calls)."""
    placed = attempt_rows.lead_of_conversation(session, call_id)
    if placed is None:
        return started_at.astimezone(UTC)
    lead, campaign = placed
    return started_at.astimezone(zone_of_lead(campaign, lead.phone_number, lead.time_zone))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def find(job: AnalysisJob, registry: ProviderRegistry, deadline: float) -> Finding:
    """The analysis of `job`: by rules where no model is needed, else by the first model of
    the agent's chain whose answer is a JSON object, all before `deadline` (monotonic clock).
    Raises `AnalysisUnavailableError`."""
    ruled = without_model(job.request, job.voicemail_left)
    if ruled is not None:  # a machine or silence: nobody asked for anything
        return Finding(ruled, "rules")
    errors: list[str] = []
    models: list[JsonLanguageModel] = []
    velox = job.request.config.velox
    # The chain the agent's calls answer with: its model, then its fallbacks.
    for name in chain_names(registry.llm, velox.providers.llm, velox.fallbacks.llm, OFFLINE.llm):
        try:
            model = registry.llm.get_for(name, job.keys)
        except Exception as error:
            errors.append(f"{name}: {error}")
            continue
        if isinstance(model, JsonLanguageModel):
            models.append(model)
        else:
            errors.append(f"{name}: cannot answer in JSON")
    found = asyncio.run(_ask(job, models, errors, deadline))
    if found is None:
        raise AnalysisUnavailableError(errors)
    return found


async def _ask(
    job: AnalysisJob, models: list[JsonLanguageModel], errors: list[str], deadline: float
) -> Finding | None:
    messages = analysis_messages(job.request)
    schema = reply_schema(job.request.config)
    options = GenerationOptions(temperature=0.0, max_tokens=ANSWER_MAX_TOKENS)
    try:
        for model in models:
            budget = min(MODEL_TIMEOUT_S, deadline - time.monotonic())
            if budget < MIN_MODEL_TIME_S:
                errors.append(f"{model.name}: not asked, no time left in this run")
                break
            try:
                async with asyncio.timeout(budget):
                    text = await model.complete_json(messages, schema, options)
                analysis = parse_reply(text, job.request.config, started_at=job.request.started_at)
            except (ProviderError, InvalidAnalysisReplyError, TimeoutError) as error:
                log.warning("analysis of %s by %s failed: %s", job.call_id, model.name, error)
                errors.append(f"{model.name}: {error or type(error).__name__}")
                continue
            apply_rules(job.request, analysis)
            return Finding(analysis, model.name, tuple(errors))
        return None
    finally:
        for model in models:  # their connections belong to this event loop, which ends here
            aclose = getattr(model, "aclose", None)
            if aclose is not None:
                await aclose()


def unanalysed(job: AnalysisJob) -> ModelAnalysis:
    """What is stored when no model could answer: the rules still decide a "remove me"."""
    analysis = ruled(job.request.config, "", "", Outcome.COMPLETED)
    apply_rules(job.request, analysis)
    return analysis


def store(
    session: Session,
    claimed: ClaimedAnalysis,
    job: AnalysisJob,
    finding: Finding,
    *,
    failed: bool,
    now: datetime,
) -> bool:
    """Write the analysis and act on it, in the caller's transaction; False if this worker no
    longer holds it (its lease ran out and another took it)."""
    analysis = finding.analysis
    if job.request.config.platform_settings.privacy.redact_pii:
        analysis.summary = redact_pii(analysis.summary)
        analysis.title = redact_pii(analysis.title)
        analysis.data = redact_pii_value(analysis.data)
    notes: dict[str, Any] = {}
    if analysis.invalid:
        notes["invalid_fields"] = analysis.invalid
    if finding.errors:
        notes["model_errors"] = list(finding.errors)
    stored = analysis_rows.store_result(
        session,
        claimed,
        status="failed" if failed else "done",
        values={
            "summary": analysis.summary,
            "title": analysis.title,
            "sentiment": None if failed and not analysis.summary else analysis.sentiment,
            "outcome": analysis.outcome.value,
            "call_successful": analysis.call_successful,
            "data": analysis.data,
            "criteria": analysis.criteria,
            "metrics": job.metrics,
            "call_back_at": analysis.call_back_at,
            "analyzed_by": finding.analyzed_by,
            "notes": notes,
            "last_error": "; ".join(finding.errors)[:2000] if failed else "",
        },
    )
    if not stored:
        return False
    if analysis.outcome.adds_to_do_not_call:
        _list_number(session, job)
    campaign_outcomes.refine_outcome(
        session, job.call_id, analysis.outcome, now, call_back_at=analysis.call_back_at
    )
    row = analysis_rows.analysis_of(session, job.call_id)
    assert row is not None
    enqueue_event(
        session,
        job.organization_id,
        "analysis_ready",
        {
            "conversation_id": job.call_id,
            "agent_id": job.agent_id,
            "analysis": analysis_body(row, job.request.config),
        },
    )
    session.flush()
    return True


def _list_number(session: Session, job: AnalysisJob) -> None:
    try:
        number = normalize_phone_number(job.external_number)
    except InvalidPhoneNumberError:
        return  # a web or app conversation: no number to list
    do_not_call.add_do_not_call(
        session, job.organization_id, number, source="call", note=job.call_id
    )


def analysis_body(row: CallAnalysis, config: AgentConfig | None) -> dict[str, Any]:
    """The analysis as `GET /v1/convai/conversations/{id}` returns it: ElevenLabs' fields
    (`transcript_summary`, `call_summary_title`, `call_successful`, `data_collection_results`,
    `evaluation_criteria_results`) and Velox's under `velox`."""
    fields = config.platform_settings.data_collection if config is not None else {}
    return {
        "call_successful": row.call_successful,
        "transcript_summary": row.summary,
        "call_summary_title": row.title,
        "data_collection_results": {
            name: {
                "data_collection_id": name,
                "value": value,
                "rationale": "",
                **(
                    {"json_schema": fields[name].model_dump(include={"type", "description"})}
                    if name in fields
                    else {}
                ),
            }
            for name, value in row.data.items()
        },
        "evaluation_criteria_results": {
            criterion_id: {
                "criteria_id": criterion_id,
                "result": verdict.get("result", "unknown"),
                "rationale": verdict.get("rationale", ""),
            }
            for criterion_id, verdict in row.criteria.items()
        },
        "velox": {
            "status": row.status,
            "outcome": row.outcome,
            "sentiment": row.sentiment,
            "metrics": row.metrics,
            "analyzed_by": row.analyzed_by,
            "notes": row.notes,
            "attempts": row.attempts,
            "call_back_at_unix_secs": int(row.call_back_at.timestamp())
            if row.call_back_at
            else None,
            "completed_at_unix_secs": int(row.completed_at.timestamp())
            if row.completed_at
            else None,
        },
    }
