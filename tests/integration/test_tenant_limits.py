"""What one tenant may learn of another, and how much one campaign may hold (issue 13, class 8)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.campaign_setup import campaign_with_a_number
from tests.tenants import Tenant

pytestmark = pytest.mark.integration

NUMBER = "+15550104444"


def register(client: TestClient, tenant: Tenant, number: str) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/v1/convai/phone-numbers",
        json={"phone_number": number, "label": "front desk"},
        headers=tenant.headers,
    )
    return response.status_code, response.json()


def test_a_number_another_organization_holds_is_refused_as_one_of_ones_own_would_be(
    client: TestClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    assert register(client, tenant_a, NUMBER)[0] == 200
    elsewhere = register(client, tenant_b, NUMBER)
    own = register(client, tenant_a, NUMBER)
    assert elsewhere == own  # the same answer: nothing says which organization holds it
    status, body = elsewhere
    assert status == 409
    assert "already registered" not in str(body)
    assert tenant_a.organization_id not in str(body)


def test_a_campaign_takes_leads_up_to_its_cap_and_counts_the_rest(
    client: TestClient, tenant_a: Tenant
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"max_leads_per_campaign": 3})  # type: ignore[attr-defined]
    campaign_id, _ = campaign_with_a_number(client, tenant_a)

    def upload(numbers: list[str]) -> dict[str, object]:
        csv = "phone_number\n" + "".join(f"{n}\n" for n in numbers)
        response = client.post(
            f"/v1/campaigns/{campaign_id}/leads",
            content=csv,
            headers={**tenant_a.headers, "content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        result: dict[str, object] = response.json()
        return result

    first = upload(["+12122345670", "+12122345671"])
    assert (first["imported"], first["over_cap"]) == (2, 0)
    second = upload(["+12122345671", "+12122345672", "+12122345673", "+12122345674"])
    assert second["imported"] == 1
    assert second["duplicates_skipped"] == 1
    assert second["over_cap"] == 2
    assert second["max_leads"] == 3
