"""Prometheus metrics of the voice service, in one registry that `/metrics` exposes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CALLS_STARTED = Counter(
    "velox_calls_started", "Calls whose media stream started", ["channel"], registry=REGISTRY
)
CALLS_ENDED = Counter(
    "velox_calls_ended", "Calls that ended, by how they ended", ["reason"], registry=REGISTRY
)
LIVE_CALLS = Gauge("velox_live_calls", "Calls in progress on this node", registry=REGISTRY)
GC_PAUSES = Histogram(
    "velox_gc_pause_seconds",
    "How long each of Python's cycle collections stopped the process, by generation",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)
CALLS_DRAINED = Counter(
    "velox_calls_drained",
    "Calls in progress when the node was asked to stop: ended on their own within the drain "
    "timeout, wound up with the shutdown message, or still running after it (cut)",
    ["how"],
    registry=REGISTRY,
)
CALLS_REFUSED_DRAINING = Counter(
    "velox_calls_refused_draining",
    "New calls refused because the node is shutting down",
    ["channel"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "velox_rate_limited",
    "Requests refused for being over a rate limit (429 on the REST API), by which limit",
    ["kind"],
    registry=REGISTRY,
)
REFUSED_AT_THE_DOOR = Counter(
    "velox_refused_at_the_door",
    "Of the rate-limited requests, those refused before authentication or a database session "
    "(their credential was refused moments before), by which limit",
    ["kind"],
    registry=REGISTRY,
)
RATE_LIMIT_ERRORS = Counter(
    "velox_rate_limit_errors",
    "Rate limits not checked because their store (Redis) did not answer; the request went on",
    registry=REGISTRY,
)
CALLS_REFUSED_CAP = Counter(
    "velox_calls_refused_cap",
    "New calls refused because their organization held its cap of calls at once on this node",
    ["channel"],
    registry=REGISTRY,
)
CAMPAIGN_DIALS_HELD = Counter(
    "velox_campaign_dials_held",
    "Campaign dials the dialer held back because the organization had its cap of calls in "
    "flight from campaigns",
    registry=REGISTRY,
)
MALFORMED_FRAMES = Counter(
    "velox_malformed_frames",
    "Inbound transport messages rejected and skipped",
    ["channel", "reason"],
    registry=REGISTRY,
)
SIP_REFUSALS = Counter(
    "velox_sip_refusals",
    "SIP calls refused for who placed them (address or caller number not allowed, missing or "
    "wrong digest credentials) or, outbound, how the callee refused them",
    ["reason"],
    registry=REGISTRY,
)
SIP_TCP_CLOSED = Counter(
    "velox_sip_tcp_closed",
    "SIP TCP connections Velox closed: over the connection cap, idle, or a stream that lost "
    "its message boundaries (no or bad Content-Length, over the size cap)",
    ["reason"],
    registry=REGISTRY,
)
BARGE_INS = Counter("velox_barge_ins", "Agent turns cut short by the caller", registry=REGISTRY)
WEBHOOK_REJECTIONS = Counter(
    "velox_webhook_signature_rejections",
    "Carrier requests refused for a bad or missing signature",
    ["endpoint"],
    registry=REGISTRY,
)
CONVERSATION_REFUSALS = Counter(
    "velox_conversation_refusals",
    "Conversation WebSocket upgrades refused (unknown agent, bad or reused token, no key)",
    ["reason"],
    registry=REGISTRY,
)
AUTH_REFUSALS = Counter(
    "velox_auth_refusals",
    "Requests refused for who made them: wrong password, locked account, expired session or "
    "invite, missing CSRF token, a role reaching beyond itself",
    ["reason"],
    registry=REGISTRY,
)
TURN_LATENCY = Histogram(
    "velox_turn_latency_seconds",
    "Per-turn latencies by stage (voice_to_voice: caller stops -> first agent audio leaves)",
    ["stage"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "velox_provider_latency_seconds",
    "Provider latency by role and stage (stt final, llm first token, tts first byte)",
    ["role", "provider", "stage"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
PROVIDER_FAILURES = Counter(
    "velox_provider_failures",
    "Provider failures (timeouts, errors, dropped streams) that moved a call to a fallback",
    ["role", "provider"],
    registry=REGISTRY,
)
PROVIDER_BREAKER_OPENS = Counter(
    "velox_provider_breaker_opens",
    "Circuit breakers opened: a provider kept failing for one organization",
    ["provider"],
    registry=REGISTRY,
)
PROVIDER_BREAKER_CLOSES = Counter(
    "velox_provider_breaker_closes",
    "Circuit breakers closed again: a half-open try of the provider succeeded",
    ["provider"],
    registry=REGISTRY,
)
REJECTED_QUERIES = Counter(
    "velox_rejected_queries",
    "Requests refused for their query string: an unknown filter value, search syntax, a bad "
    "range, cursor or time zone, a parameter of the wrong type",
    ["reason"],
    registry=REGISTRY,
)
RECORDINGS_FAILED = Counter(
    "velox_recordings_failed",
    "Call recordings that could not be finished (the call itself went on): the writer process "
    "ended or could not start (writer_lost), did not answer in time (writer_timeout), or writing "
    "the file failed (write_error)",
    ["reason"],
    registry=REGISTRY,
)
RECORDING_WRITER_EXITS = Counter(
    "velox_recording_writer_exits",
    "Recording writer processes that ended unasked (died) or could not start (start_failed); "
    "the next recorded call starts a new one",
    ["how"],
    registry=REGISTRY,
)
TOOL_CALLS = Counter(
    "velox_tool_calls",
    "Webhook tool calls by outcome: ok, or the error the model was told (invalid_arguments,"
    " url_refused, redirect_refused, timeout, unreachable, http_error, invalid_response...)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
TOOL_CONFIGS_REFUSED = Counter(
    "velox_tool_configs_refused",
    "Webhook tools refused when created or changed (a schema that is not valid JSON Schema, an"
    " unknown secret, a taken name...)",
    registry=REGISTRY,
)
KNOWLEDGE_REFUSALS = Counter(
    "velox_knowledge_refusals",
    "Knowledge-base documents refused: unreadable or oversized files, unreachable or unsafe URLs",
    ["reason"],
    registry=REGISTRY,
)
UNSAFE_URL_REFUSALS = Counter(
    "velox_unsafe_url_refusals",
    "Tenant URLs refused because they resolve to a private, loopback or link-local address",
    ["use"],
    registry=REGISTRY,
)
LLM_MALFORMED_TOOL_CALLS = Counter(
    "velox_llm_malformed_tool_calls",
    "Tool calls a local model wrote that could not be read (handed back to it as a tool error)",
    ["provider"],
    registry=REGISTRY,
)
OFFLINE_STT_DECODES = Counter(
    "velox_offline_stt_decodes",
    "Offline (Whisper) decodes by kind (interim, final, early: a final started when the caller "
    "went quiet) and what became of them: decoded, failed, an interim dropped unrun (stale under "
    "load, replaced by a newer one, withdrawn by a final), an early one withdrawn unrun or "
    "unused because the caller spoke on",
    ["kind", "result"],
    registry=REGISTRY,
)
