"""The API does what its OpenAPI schema says (issue 13, class 7), checked by schemathesis against
the running service on SQLite and on PostgreSQL: every operation, generated valid and invalid
requests, stateful sequences (create, then read, update and delete what was created).

Checked: no server error; every status code, content type, header and body documented; invalid
requests refused; undeclared methods answered 405 with the right `Allow`; authentication
enforced. Not gated: `positive_data_acceptance` (that every schema-valid request is accepted):
some rules cannot be said in JSON Schema — an opaque paging cursor the service did not issue, a
string that is no phone number, a voicemail rule across two fields — and the service refuses
those with a 422 that names the field, which is the right answer, not a schema lie.
Not run: `GET /v1/calls/live/events`, a server-sent-events stream that never ends by design (a
request to it never finishes); it is tested as a stream in tests/integration/test_live_calls.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config.agent import AgentConfig, ProviderChoice
from app.providers.energy.vad import EnergyVad
from app.providers.registry import ProviderRegistry
from tests.e2e.twilio_rest_double import twilio_rest_double
from tests.e2e.voice_service import RunningService, running_service
from tests.fakes.providers import ScriptedLanguageModel, ScriptedSpeechToText, ToneTextToSpeech

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 25
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def service(tmp_path: Path, empty_database_url: str) -> Iterator[RunningService]:
    stt, llm, tts = (
        ScriptedSpeechToText([]),
        ScriptedLanguageModel(lambda messages: "Hello."),
        ToneTextToSpeech(),
    )
    registry = ProviderRegistry()
    registry.vad.register("energy", EnergyVad)
    registry.stt.register(stt.name, lambda: stt)
    registry.llm.register(llm.name, lambda: llm)
    registry.tts.register(tts.name, lambda: tts)
    config = AgentConfig(name="Schema")
    config.velox.providers = ProviderChoice(vad="energy", stt=stt.name, llm=llm.name, tts=tts.name)
    with (
        twilio_rest_double() as twilio,
        running_service(
            tmp_path,
            config=config,
            registry=registry,
            twilio_api_base_url=twilio.base_url,
            database_url=empty_database_url,
            sip=True,  # SIP trunk calls are part of the API under test
            # Off: thousands of requests from one key would be refused 429, leaving the routes'
            # own logic untested (the limits are tested in test_api_rate_limits.py).
            rate_limits_enabled=False,
        ) as running,
    ):
        yield running


def test_the_api_does_what_its_schema_says(service: RunningService, tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{service.base_url}/openapi.json",
        "--header",
        f"xi-api-key: {service.api_key}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--generation-deterministic",
        "--exclude-path",
        "/v1/calls/live/events",
        "--report-dir",
        str(tmp_path / "schemathesis"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
