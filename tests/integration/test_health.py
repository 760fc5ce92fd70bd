"""`/health` tells an operator (and a load balancer) whether this node can answer calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db.migrate import upgrade
from app.main import create_app
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from app.settings import Settings

pytestmark = pytest.mark.integration


def test_health_is_503_and_names_the_missing_roles_when_calls_cannot_be_answered(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'velox.db'}")
    upgrade(settings.resolved_database_url())
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    with TestClient(create_app(settings, providers=registry)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["database"]["state"] == "ok"
    assert body["components"]["providers"]["missing_roles"] == ["stt", "llm", "tts"]
