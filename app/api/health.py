"""`GET /health` (what is running and in what state) and `GET /metrics` (Prometheus text)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.calls.runtime import VoiceRuntime
from app.config.agent import ProviderChoice
from app.observability.metrics import REGISTRY

router = APIRouter(tags=["service"])


@router.get("/health")
def health(request: Request, response: Response) -> dict[str, Any]:
    runtime: VoiceRuntime = request.app.state.voice
    components: dict[str, Any] = {}
    try:
        with runtime.database.session() as session:
            session.execute(text("SELECT 1"))
        components["database"] = {"state": "ok", "backend": runtime.database.engine.name}
    except Exception as error:
        components["database"] = {"state": "error", "error": str(error)}
    loaded = {}
    for role in ("vad", "stt", "llm", "tts"):
        providers = getattr(runtime.providers, role)
        loaded[role] = {
            name: {"load_seconds": _rounded(providers.load_seconds(name))}
            for name in sorted(providers.loaded())
        }
    available = runtime.providers.available()
    missing = [role for role, names in available.items() if not names]
    components["providers"] = {
        # A role with no provider at all means no call can be answered.
        "state": "missing" if missing else "ok",
        "missing_roles": missing,
        "available": available,
        "loaded": loaded,
        "default": ProviderChoice().model_dump(),
    }
    components["calls"] = {"state": "ok", "live": len(runtime.live_calls)}
    components["twilio"] = {
        "state": "ok",
        "signature_checks": bool(runtime.settings.twilio_auth_token),
        "rest_configured": bool(
            runtime.settings.twilio_account_sid and runtime.settings.twilio_auth_token
        ),
    }
    healthy = all(c["state"] == "ok" for c in components.values())
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "degraded", "components": components}


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
