"""The agent editor's Tools and Knowledge sections in Chromium against the built dashboard and
the real API: a webhook tool and a text document made through the API are attached in the
editor, a file is uploaded inline, the RAG settings are refused then saved, the stored agent is
read back through the API, and the documents' index status follows the real indexer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.knowledge.indexing import index_due_documents
from app.knowledge.minilm import shared_model
from app.people.roles import Role
from tests.e2e.dashboard_app import (
    RunningDashboard,
    launch,
    running_dashboard,
    screenshot,
)
from tests.e2e.test_dashboard import (
    assert_accessible,
    create_agent_over_api,
    open_page,
    person,
    sign_in,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDashboard]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def over_api(dashboard: RunningDashboard, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{dashboard.base_url}{path}", json=body, headers={"xi-api-key": dashboard.api_key}
    )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def order_tool(dashboard: RunningDashboard) -> str:
    tool = over_api(
        dashboard,
        "/v1/convai/tools",
        {
            "tool_config": {
                "type": "webhook",
                "name": "get_order_status",
                "description": "Look up an order's delivery status by its number.",
                "api_schema": {
                    "url": "https://orders.example.com/orders/{order_id}",
                    "method": "GET",
                    "path_params_schema": {
                        "order_id": {"type": "string", "description": "the order number"}
                    },
                },
            }
        },
    )
    return str(tool["id"])


def show_section(page: Page, section_id: str) -> None:
    """Scroll the section's top to just under the editor's sticky header."""
    page.evaluate(
        """(id) => {
            const header = document.querySelector('nav[aria-label="Breadcrumb"]').parentElement;
            const top = document.getElementById(id).getBoundingClientRect().top;
            window.scrollBy(0, top - header.getBoundingClientRect().bottom - 8);
        }""",
        section_id,
    )


def editor(
    browser: Browser,
    dashboard: RunningDashboard,
    email: str,
    agent_id: str,
    width: int,
    dark: bool = False,
) -> Page:
    page = open_page(browser, dashboard, width=width, dark=dark)
    sign_in(page, email)
    page.goto(f"/agents/edit/?id={agent_id}")
    expect(page.get_by_role("heading", name="Tools", exact=True)).to_be_attached()
    return page


def test_a_manager_attaches_a_tool_and_documents_and_saves_them_with_the_agent(
    browser: Browser, dashboard: RunningDashboard, tmp_path: Path
) -> None:
    agent_id = create_agent_over_api(dashboard, "Order desk")
    tool_id = order_tool(dashboard)
    policy = over_api(
        dashboard,
        "/v1/convai/knowledge-base/text",
        {"name": "Returns policy", "text": "Orders can be returned within 30 days of delivery."},
    )
    email = person(dashboard, "lena@acme.test", Role.MANAGER)
    page = editor(browser, dashboard, email, agent_id, width=1280)

    tools = page.get_by_role("region", name="Tools", exact=True)
    tool = tools.get_by_role("checkbox", name=re.compile("get_order_status"))
    expect(tools.get_by_text("https://orders.example.com/orders/{order_id}")).to_be_visible()
    expect(tool).not_to_be_checked()
    tool.check()

    # A tool made in the editor, with its URL's placeholder, is attached once the API has it.
    tools.get_by_role("button", name="New webhook tool").click()
    dialog = page.get_by_role("dialog", name="New webhook tool")
    dialog.get_by_label("Name").fill("book_visit")
    dialog.get_by_label("Description").fill("Book a store visit on a day the caller gives.")
    dialog.get_by_label("Method").select_option("POST")
    dialog.get_by_label("URL").fill("https://stores.example.com/visits/{day}")
    dialog.get_by_label("What {day} is").fill("the day, as YYYY-MM-DD")
    assert_accessible(page, "new webhook tool dialog")
    screenshot(page, "agent-editor-new-tool")
    dialog.get_by_role("button", name="Create and attach").click()
    expect(dialog).to_be_hidden()
    expect(tools.get_by_role("checkbox", name=re.compile("book_visit"))).to_be_checked()

    knowledge = page.get_by_role("region", name="Knowledge", exact=True)
    expect(knowledge.get_by_text("No document attached")).to_be_visible()
    knowledge.get_by_label("Attach a document of this workspace").select_option(
        label="Returns policy (Text)"
    )
    knowledge.get_by_role("button", name="Attach", exact=True).click()
    attached = knowledge.get_by_role("list", name="Attached documents")
    expect(attached.get_by_text("Returns policy")).to_be_visible()
    expect(attached.get_by_text("Waiting to be indexed")).to_be_visible()
    knowledge.get_by_label("How Returns policy is used").select_option("prompt")

    # A file uploaded inline becomes a document of the workspace, attached at once.
    upload = tmp_path / "shipping.md"
    upload.write_text("# Shipping\n\nParcels leave the warehouse within two working days.\n")
    knowledge.get_by_role("button", name="Add a new document").click()
    form = knowledge.get_by_role("form", name="New document")
    form.get_by_label("A file").check()
    form.get_by_label("File", exact=True).set_input_files(str(upload))
    assert_accessible(page, "agent editor, new document form")
    show_section(page, "knowledge")
    screenshot(page, "agent-editor-knowledge-new-document")
    form.get_by_role("button", name="Add and attach").click()
    expect(
        knowledge.get_by_text("“shipping.md” was added to the workspace and attached")
    ).to_be_visible()
    expect(attached.get_by_role("listitem")).to_have_count(2)

    # Retrieval's settings: a distance past the API's limit is refused under its field.
    knowledge.get_by_role("switch", name="Retrieve passages for each turn").click()
    knowledge.get_by_label("Passages per turn, at most").fill("5")
    distance = knowledge.get_by_label("Largest vector distance")
    distance.fill("3")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Not saved: one field needs attention")).to_be_visible()
    expect(distance).to_have_attribute("aria-invalid", "true")
    expect(knowledge.get_by_role("alert")).to_contain_text("less than or equal to 2")
    assert (
        dashboard.agent_config(agent_id)["conversation_config"]["agent"]["prompt"]["tool_ids"] == []
    )
    assert_accessible(page, "agent editor, knowledge refused")
    show_section(page, "knowledge")
    screenshot(page, "agent-editor-knowledge-refused")

    distance.fill("0.45")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()

    prompt = dashboard.agent_config(agent_id)["conversation_config"]["agent"]["prompt"]
    made = httpx.get(
        f"{dashboard.base_url}/v1/convai/tools",
        params={"search": "book_visit"},
        headers={"xi-api-key": dashboard.api_key},
    ).json()["tools"]
    assert len(made) == 1
    made_schema = made[0]["tool_config"]["api_schema"]
    assert made_schema["method"] == "POST"
    assert made_schema["url"] == "https://stores.example.com/visits/{day}"
    assert made_schema["path_params_schema"]["day"]["description"] == "the day, as YYYY-MM-DD"
    assert prompt["tool_ids"] == [tool_id, made[0]["id"]]
    shipping = next(item for item in prompt["knowledge_base"] if item["name"] == "shipping.md")
    assert prompt["knowledge_base"] == [
        {"type": "text", "name": "Returns policy", "id": policy["id"], "usage_mode": "prompt"},
        {"type": "file", "name": "shipping.md", "id": shipping["id"], "usage_mode": "auto"},
    ]
    assert prompt["rag"] == {
        "enabled": True,
        "max_retrieved_rag_chunks_count": 5,
        "max_vector_distance": 0.45,
        "max_documents_length": 50000,
    }
    listed = httpx.get(
        f"{dashboard.base_url}/v1/convai/knowledge-base/{shipping['id']}",
        headers={"xi-api-key": dashboard.api_key},
    ).json()
    assert "within two working days" in listed["extracted_inner_html"]

    # The real indexer runs (as the knowledge worker would): the page, reading the status
    # again while it is pending, shows both indexed.
    assert index_due_documents(dashboard.database, shared_model()) == 2
    expect(attached.get_by_text("Indexed", exact=True)).to_have_count(2, timeout=20_000)
    assert_accessible(page, "agent editor, tools and knowledge")
    show_section(page, "tools")
    screenshot(page, "agent-editor-tools-1280")
    show_section(page, "knowledge")
    screenshot(page, "agent-editor-knowledge-1280")

    # Narrow (a phone's 390 px, dark): the same sections, read back from the saved agent.
    phone = editor(browser, dashboard, email, agent_id, width=390, dark=True)
    phone_tools = phone.get_by_role("region", name="Tools", exact=True)
    expect(phone_tools.get_by_role("checkbox", name=re.compile("get_order_status"))).to_be_checked()
    phone_knowledge = phone.get_by_role("region", name="Knowledge", exact=True)
    expect(phone_knowledge.get_by_text("Indexed", exact=True)).to_have_count(2)
    assert_accessible(phone, "agent editor at 390 px, dark")
    show_section(phone, "tools")
    screenshot(phone, "agent-editor-tools-390")
    show_section(phone, "knowledge")
    screenshot(phone, "agent-editor-knowledge-390")

    # Detached in the editor, gone from the stored agent.
    page.get_by_role("button", name="Detach shipping.md").click()
    tool.uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    prompt = dashboard.agent_config(agent_id)["conversation_config"]["agent"]["prompt"]
    assert prompt["tool_ids"] == [made[0]["id"]]
    assert [item["name"] for item in prompt["knowledge_base"]] == ["Returns policy"]
