"""`velox worker` indexes knowledge-base documents: beat's task embeds them and the document's
index status ends `succeeded`, with its chunks stored."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from app.db import knowledge as knowledge_rows
from app.db.migrate import upgrade
from app.db.models import Organization
from app.db.organizations import create_organization
from app.db.session import Database
from app.settings import Settings
from tests.integration.worker_processes import start_worker

pytestmark = [pytest.mark.integration, pytest.mark.models]


@pytest.fixture
def embedded(tmp_path: Path) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'velox.db'}",
    )
    upgrade(settings.resolved_database_url())
    return settings


def test_the_worker_indexes_a_new_document_until_its_status_is_succeeded(
    embedded: Settings, tmp_path: Path
) -> None:
    database = Database(embedded.resolved_database_url())
    with database.session() as session:
        organization: Organization = create_organization(session, "Acme")[0]
        document = knowledge_rows.create_document(
            session,
            organization.id,
            name="Hours",
            type="text",
            content="We open at nine on weekdays.\n\nWe close at six.",
            size_bytes=44,
        )
        organization_id, document_id = organization.id, document.id
    velox = Path(sys.executable).with_name("velox")
    worker = start_worker(
        [str(velox), "worker", "--concurrency=1"], embedded, tmp_path / "worker.log"
    )
    try:
        deadline = time.monotonic() + 60
        status = "pending"
        while time.monotonic() < deadline and status != "succeeded":
            time.sleep(0.5)
            with database.session() as session:
                found = knowledge_rows.get_document(session, organization_id, document_id)
                assert found is not None
                status = found.index_status
        with database.session() as session:
            chunks = knowledge_rows.chunks_of(session, organization_id, [document_id])
    finally:
        worker.stop()
        database.dispose()

    assert status == "succeeded", (tmp_path / "worker.log").read_text()[-3000:]
    assert [chunk.text for chunk in chunks] == ["We open at nine on weekdays. We close at six."]
