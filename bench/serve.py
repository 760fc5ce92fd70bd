"""`python -m bench.serve`: the real Velox service with a benchmark agent, ready to be dialled.

Runs `create_app` under uvicorn the way `velox serve` does (same loop and WebSocket
implementation), on 127.0.0.1:`VELOX_PORT` (default 8000), with SQLite in a fresh directory and
no Twilio auth token (so no signatures are needed). It creates one organization and one agent,
then prints `agent_id=<id>` and `api_key=<key>`, so any Twilio-protocol harness can dial
`POST /twilio/voice?agent_id=<id>` and read the saved conversation afterwards.

Stacks: `instant` (instant STT/LLM/TTS from `bench.instant_providers` and the real Silero VAD,
or the energy VAD if Silero is not registered), `offline` (the product's default providers),
`scripted` (Silero with the scripted recognizer, LLM and espeak-ng voice of
`bench.feel_providers`; always `--feel`).

`--feel` creates one agent per conversational-feel probe kind instead, with the product's own
interruption, echo and end-of-turn settings, and prints `agent.<kind>=<id>` for each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.server_protocols import uvicorn_protocols
from app.config.agent import AgentConfig, ProviderChoice
from app.db import agents as agent_queries
from app.db import organizations as org_queries
from app.db import phone_numbers as number_queries
from app.db.migrate import upgrade
from app.db.session import Database
from app.main import create_app
from app.observability.process import observe_process
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from bench.feel_probes import GREETING as FEEL_GREETING
from bench.feel_probes import Probe
from bench.feel_providers import SCRIPTED, SPOKEN, register_feel_providers, stt_name
from bench.instant_providers import NAME as INSTANT
from bench.instant_providers import register_instant_providers

GREETING = "Hello! How can I help you today?"
# The number SIP callers dial (`--sip-port`), and the calls one process may hold at once.
SIP_NUMBER = "+15550009999"
SIP_MAX_CALLS = 2000
# End-of-turn windows of the instant agent, set explicitly so the bench knows what it waits.
# The instant transcript ends in "?", so the "complete" window is the one that applies.
END_OF_TURN_SILENCE_MS = 600
END_OF_TURN_COMPLETE_MS = 200
END_OF_TURN_INCOMPLETE_MS = 1200
BARGE_IN_MIN_SPEECH_MS = 200  # the scale bench's agent (not the product default)
# The offline feel agents answer the probes' question in two sentences, long enough to probe.
FEEL_PROMPT = (
    "You are the front desk of Acme, a hair salon. We open weekdays from nine to five and "
    "Saturdays from ten to two. Answer in two full sentences."
)


def provider_registry(settings: Settings) -> ProviderRegistry:
    registry = ProviderRegistry()
    register_builtin_providers(registry, settings)
    register_instant_providers(registry)
    register_feel_providers(registry)
    return registry


def instant_vad(registry: ProviderRegistry) -> str:
    """The real VAD ("silero") when registered, else "energy"."""
    return "silero" if "silero" in registry.vad.names() else "energy"


def missing_offline_providers(registry: ProviderRegistry) -> list[str]:
    """Roles of the product's default (offline) stack that are not registered, as `role name`."""
    available = registry.available()
    return [
        f"{role} {name!r}"
        for role, name in ProviderChoice().model_dump().items()
        if name not in available[role]
    ]


def agent_config(stack: str, registry: ProviderRegistry) -> AgentConfig:
    config = AgentConfig(name=f"bench-{stack}")
    config.conversation_config.agent.first_message = GREETING
    # No re-prompts or silence hang-ups: the bench caller decides when it speaks and hangs up.
    config.conversation_config.turn.turn_timeout = -1
    config.conversation_config.turn.silence_end_call_timeout = -1
    config.velox.barge_in_min_speech_ms = BARGE_IN_MIN_SPEECH_MS
    if stack == "instant":
        config.velox.providers = ProviderChoice(
            vad=instant_vad(registry), stt=INSTANT, llm=INSTANT, tts=INSTANT
        )
        config.velox.end_of_turn_silence_ms = END_OF_TURN_SILENCE_MS
        config.velox.end_of_turn_complete_ms = END_OF_TURN_COMPLETE_MS
        config.velox.end_of_turn_incomplete_ms = END_OF_TURN_INCOMPLETE_MS
    return config


def feel_agent_config(stack: str, probe: Probe) -> AgentConfig:
    """A probe kind's agent: the product's barge-in, echo and end-of-turn settings untouched."""
    config = AgentConfig(name=f"bench-feel-{probe.value}")
    agent = config.conversation_config.agent
    agent.first_message = FEEL_GREETING
    config.conversation_config.turn.turn_timeout = -1
    config.conversation_config.turn.silence_end_call_timeout = -1
    if stack == "scripted":
        config.velox.providers = ProviderChoice(
            vad="silero", stt=stt_name(probe), llm=SCRIPTED, tts=SPOKEN
        )
    else:
        agent.prompt.prompt = FEEL_PROMPT
    return config


def agent_configs(stack: str, registry: ProviderRegistry, feel: bool) -> dict[str, AgentConfig]:
    """The agents to create, by name: one per probe kind with `feel`, else one."""
    if feel or stack == "scripted":
        return {probe.value: feel_agent_config(stack, probe) for probe in Probe}
    return {stack: agent_config(stack, registry)}


# Set for the worker processes of a `--record` server (they build their app from the environment).
RECORDING_WRITER_AT_START = "VELOX_BENCH_RECORDING_WRITER_AT_START"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("VELOX_PORT", "8000")))
    parser.add_argument("--stack", choices=("instant", "offline", "scripted"), default="instant")
    parser.add_argument(
        "--feel", action="store_true", help="one agent per conversational-feel probe kind"
    )
    parser.add_argument("--data-dir", type=Path, help="where the SQLite file goes (default: temp)")
    parser.add_argument(
        "--record", action="store_true", help="the agents record every call (privacy.record_voice)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (as VELOX_WORKERS)"
    )
    parser.add_argument(
        "--sip-port", type=int, help="also answer SIP on 127.0.0.1 (UDP), the agent on SIP_NUMBER"
    )
    parser.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="no per-organization rates (the new calls a minute among them): capacity runs",
    )
    args = parser.parse_args(argv)

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="velox-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        host="127.0.0.1",
        port=args.port,
        log_level="WARNING",
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'bench.db'}",
        public_url=f"http://127.0.0.1:{args.port}",
        twilio_auth_token="",
        sip_host="127.0.0.1",
        sip_port=args.sip_port,
        sip_max_calls=SIP_MAX_CALLS,
        rate_limits_enabled=not args.no_rate_limits,
        # No dashboard here: with a build present it would take `/bench/runtime` for one of its
        # pages (it serves every path outside the API's own).
        dashboard_dir=data_dir / "no-dashboard",
    )
    if args.sip_port is not None and args.workers > 1:
        print("missing=SIP answers in one server process (--workers 1)", flush=True)
        return 2
    registry = provider_registry(settings)
    if args.stack == "offline" and (missing := missing_offline_providers(registry)):
        print(f"missing={'; '.join(missing)}", flush=True)
        return 2
    # Logs and traces as `velox serve` has them (VELOX_TRACING=false turns the spans off).
    observe_process(settings, "velox-bench")
    upgrade(settings.resolved_database_url())
    configs = agent_configs(args.stack, registry, args.feel)
    for config in configs.values():
        config.platform_settings.privacy.record_voice = args.record
    database = Database(settings.resolved_database_url())
    with database.session() as session:
        organization, key = org_queries.create_organization(session, "bench")
        agent_ids = {
            name: agent_queries.create_agent(session, organization.id, config).id
            for name, config in configs.items()
        }
        if args.sip_port is not None:
            number_queries.create_phone_number(
                session,
                organization.id,
                phone_number=SIP_NUMBER,
                label="bench trunk",
                provider="sip_trunk",
                agent_id=next(iter(agent_ids.values())),
            )
    database.dispose()
    # Load the agents' models before answering, so the first call does not pay for them.
    errors = sorted({e for c in configs.values() for e in registry.preload(c.velox.providers)})
    if errors:
        print(f"missing={'; '.join(errors)}", flush=True)
        return 2
    config = next(iter(configs.values()))
    if len(configs) > 1:
        for name, agent_id in agent_ids.items():
            print(f"agent.{name}={agent_id}")
    agent_id = next(iter(agent_ids.values()))
    print(f"vad={config.velox.providers.vad}")
    print(f"database={settings.resolved_database_url()}")
    print(f"playout_lead_ms={settings.playout_lead_ms}")
    print(f"api_key={key}")
    print(f"agent_id={agent_id}", flush=True)
    if args.workers > 1:
        # Each worker builds its own app from these settings, as `velox serve` does.
        os.environ.update(
            VELOX_DATA_DIR=str(data_dir),
            VELOX_DATABASE_URL=settings.resolved_database_url(),
            VELOX_PUBLIC_URL=settings.resolved_public_url(),
            VELOX_LOG_LEVEL="WARNING",
            VELOX_TWILIO_AUTH_TOKEN="",
            **({RECORDING_WRITER_AT_START: "1"} if args.record else {}),
        )
        uvicorn.run(
            "bench.serve:worker_app",
            factory=True,
            workers=args.workers,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            log_config=None,
            **uvicorn_protocols(),
        )
        return 0
    app = create_app(settings, providers=registry, preload=False, freeze_heap=True)
    app.router.routes.insert(0, APIRoute("/bench/runtime", runtime_counts, methods=["GET"]))
    if args.record:
        start_recording_writer(app)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,
        **uvicorn_protocols(),
    )
    return 0


async def runtime_counts() -> dict[str, object]:
    """This process's asyncio tasks and open file descriptors, those by kind (`socket`,
    `pipe`, a file's name...), for the soak's leak checks."""
    kinds: dict[str, int] = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        kind = target.split(":", 1)[0] if ":" in target else Path(target).name
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"tasks": len(asyncio.all_tasks()), "fds": sum(kinds.values()), "fd_kinds": kinds}


def worker_app() -> FastAPI:
    """One worker process's app: the instant providers beside the product's, no preloading."""
    settings = Settings()
    observe_process(settings, "velox-bench")
    app = create_app(
        settings, providers=provider_registry(settings), preload=False, freeze_heap=True
    )
    if os.environ.get(RECORDING_WRITER_AT_START):
        start_recording_writer(app)
    return app


def start_recording_writer(app: FastAPI) -> None:
    """Start the process's recording writer now, not at its first recorded call (as the service
    does): a bench that takes the server's resident memory before the calls as its baseline
    then counts the writer's own footprint (its interpreter and libraries, the same for 1 call
    or 100) in the baseline, not as memory per call."""
    writer = app.state.voice.recordings
    writer.start()
    writer.wait()  # its libraries loaded: its footprint is all there before the baseline


if __name__ == "__main__":
    sys.exit(main())
