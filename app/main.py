"""The composition root: builds the service from settings, wiring every part to the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from app.api import health
from app.api.api_docs import PATHS as API_DOCS_PATHS
from app.api.api_docs import serve_api_docs
from app.api.body_limits import guard_requests
from app.api.dashboard_files import serve_dashboard
from app.api.deps import refused_credentials
from app.api.mobile_app_files import PREFIX as MOBILE_APP_PREFIX
from app.api.mobile_app_files import serve_mobile_app
from app.api.refused_at_the_door import RefusedAtTheDoor
from app.api.routers import REST_ROUTERS, VOICE_ROUTERS
from app.api.security_headers import secure_responses
from app.calls.draining import Drainer
from app.calls.lifecycle import take_command
from app.calls.live import live_bus
from app.calls.node_watch import NodeWatch
from app.calls.runtime import VoiceRuntime
from app.calls.store import DatabaseCallRecorder
from app.config.agent import ProviderChoice
from app.config.redaction import redact_log_records, remember_secrets
from app.db.session import Database
from app.engine.record import CallRecorder
from app.observability.collector import freeze_startup_heap, measure_pauses
from app.observability.process import observe_process
from app.providers.builtin import register_builtin_providers
from app.providers.registry import ProviderRegistry
from app.providers.warm_up import warm_up
from app.settings import Settings, get_settings
from telephony.convai import routes as convai_routes
from telephony.sip.dial_queue import DialQueue
from telephony.sip.server import SipServer
from telephony.twilio import routes as twilio_routes

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    providers: ProviderRegistry | None = None,
    recorder: CallRecorder | None = None,
    preload: bool = True,
    freeze_heap: bool = False,
) -> FastAPI:
    """The whole service. Tests pass their own provider registry (fakes) and settings.

    `freeze_heap`: the app is its process's only one (`velox serve`, the bench's server): what
    start-up loaded is kept out of the cycle collector's walks (app/observability/collector.py).
    A test process, which builds many apps, leaves it off: frozen objects are never collected."""
    settings = settings or get_settings()
    redact_log_records()
    remember_secrets([settings.openai_api_key, settings.twilio_auth_token])
    database = Database(settings.resolved_database_url())
    if providers is None:
        providers = ProviderRegistry()
        register_builtin_providers(providers, settings)
    runtime = VoiceRuntime(
        settings=settings,
        database=database,
        providers=providers,
        recorder=recorder or DatabaseCallRecorder(database),
        options=VoiceRuntime.engine_options(settings),
        phrases=VoiceRuntime.phrase_cache(settings),
        live=live_bus(settings.redis_url),
    )

    node = NodeWatch(runtime)
    sip = SipServer(runtime) if settings.sip_port is not None else None
    # Campaign calls over SIP trunks, queued by the dial tasks, placed by this node.
    dials = DialQueue(runtime, sip, sip.calls) if sip is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        measure_pauses()
        if preload:
            # Models load in the background so the service answers /health at once; the first
            # call then finds them ready instead of waiting seconds for a load.
            loading = asyncio.create_task(_preload(providers, freeze_heap))
        await node.start()
        assert runtime.node_id is not None
        await runtime.live.start(runtime.node_id, partial(take_command, runtime))
        if sip is not None:
            await sip.start()
        if dials is not None:
            dials.start()
        # SIGTERM drains the node (new calls refused, live ones end politely) before it stops.
        drainer = Drainer(runtime, settings.drain_timeout_s, settings.shutdown_message)
        drainer.install()
        app.state.drainer = drainer
        if freeze_heap:
            freeze_startup_heap()  # and again once the models are loaded (see _preload)
        yield
        drainer.uninstall()
        if dials is not None:
            await dials.stop()
        if sip is not None:
            await sip.stop()
        if preload and not loading.done():
            loading.cancel()
        for session in list(runtime.live_calls.values()):
            await session.close("service_shutdown")
        await runtime.phrases.aclose()
        await asyncio.to_thread(runtime.recordings.stop)
        await runtime.live.stop()
        await node.stop()
        database.dispose()

    app = FastAPI(
        title="Velox",
        version="0.1.0",
        description="Contact-center voice AI. ElevenLabs Agents-compatible REST under /v1/convai.",
        lifespan=lifespan,
        docs_url=None,  # served by serve_api_docs, from this service's own files
        redoc_url=None,
    )
    serve_api_docs(app)
    guard_requests(app)
    # Over its rate, a credential's requests are refused before they are authenticated.
    app.add_middleware(RefusedAtTheDoor, refused=refused_credentials(app))
    app.state.settings = settings
    app.state.database = database
    app.state.voice = runtime
    app.state.rates = runtime.rates  # the REST API's and the calls' rates: one store
    app.state.sip = sip
    routers = (
        health.router,
        *REST_ROUTERS,
        *VOICE_ROUTERS,
        twilio_routes.router,
        convai_routes.router,
    )
    for router in routers:
        app.include_router(router)
    mobile_app = settings.resolved_mobile_app_dir()
    if (mobile_app / "index.html").is_file():
        serve_mobile_app(app, mobile_app)
    dashboard = settings.resolved_dashboard_dir()
    if (dashboard / "index.html").is_file():
        paths = [getattr(route, "path", "") for router in routers for route in router.routes]
        # The field agents' app at /m/ and the API's documentation are not the dashboard's either.
        serve_dashboard(app, dashboard, api_paths=[*paths, MOBILE_APP_PREFIX, *API_DOCS_PATHS])
    # Last, so outermost: every response, the dashboard's and the API's errors included.
    secure_responses(
        app, public_url=settings.resolved_public_url(), cors_origins=settings.cors_allowed_origins
    )
    return app


def create_server_app() -> FastAPI:
    """`velox serve`'s app in each of several worker processes (uvicorn's factory)."""
    settings = get_settings()
    observe_process(settings, "velox-serve")
    return create_app(settings, freeze_heap=True)


async def _preload(providers: ProviderRegistry, freeze_heap: bool) -> None:
    errors = await asyncio.to_thread(providers.preload, ProviderChoice())
    for error in errors:
        log.warning("default provider not available: %s", error)
    await warm_up(providers, ProviderChoice())
    if freeze_heap:  # the models' objects, never garbage, out of the collector's walks
        freeze_startup_heap()
