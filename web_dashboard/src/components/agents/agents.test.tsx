import { location, router } from "@/test/navigation-mock";

import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Agent } from "@/lib/agent-draft";
// A real answer of GET /v1/convai/agents/{id} for an agent with Velox's defaults.
import agentFixture from "@/test/fixtures/agent.json";
import { fakeApi, renderWithClient } from "@/test/render";

import { AgentList } from "./agent-list";
import { AgentEditor } from "./editor/agent-editor";

const AGENT = agentFixture as unknown as Agent;
const AGENT_URL = `/v1/convai/agents/${AGENT.agent_id}`;

function summary(name: string, id: string) {
  return { agent_id: id, name, voice_id: "default", tags: ["inbound"], created_at_unix_secs: 1764979200, updated_at_unix_secs: 1764979200, access_info: { creator_name: "Acme" }, archived: false };
}

beforeEach(() => {
  location.search = new URLSearchParams();
  router.push.mockClear();
  router.replace.mockClear();
});
afterEach(() => vi.unstubAllGlobals());

describe("the agent list", () => {
  it("lists the agents with a link to each one's editor", async () => {
    fakeApi({ "GET /v1/convai/agents": { body: { agents: [summary("Front desk", "agent_1"), summary("Renewals", "agent_2")], has_more: false, next_cursor: null } } });
    renderWithClient(<AgentList canWrite />);

    const link = await screen.findByRole("link", { name: "Front desk" });
    // (Next's Link drops the trailing slash outside a build that sets `trailingSlash`.)
    expect(link.getAttribute("href")).toMatch(/^\/agents\/edit\/?\?id=agent_1$/);
    expect(screen.getByRole("link", { name: "Renewals" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Show more agents" })).not.toBeInTheDocument();
  });

  it("searches by name on the server and keeps the search in the URL", async () => {
    const requests = fakeApi({ "GET /v1/convai/agents": { body: { agents: [], has_more: false, next_cursor: null } } });
    renderWithClient(<AgentList canWrite />);
    await screen.findByText("No agents yet");

    await userEvent.type(screen.getByLabelText("Search agents"), "front");

    expect(await screen.findByText("No agent matches “front”")).toBeInTheDocument();
    expect(requests.at(-1)?.url).toContain("search=front");
    expect(router.replace).toHaveBeenLastCalledWith("/agents/?search=front", { scroll: false });
  });

  it("pages with the cursor the API gives", async () => {
    const requests = fakeApi({
      "GET /v1/convai/agents": (request) =>
        request.url.includes("cursor=c2")
          ? { body: { agents: [summary("Older", "agent_3")], has_more: false, next_cursor: null } }
          : { body: { agents: [summary("Newer", "agent_4")], has_more: true, next_cursor: "c2" } },
    });
    renderWithClient(<AgentList canWrite />);

    await userEvent.click(await screen.findByRole("button", { name: "Show more agents" }));

    expect(await screen.findByRole("link", { name: "Older" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Newer" })).toBeInTheDocument();
    expect(requests.at(-1)?.url).toContain("cursor=c2");
  });

  it("offers no creation to a role that may only read", async () => {
    fakeApi({ "GET /v1/convai/agents": { body: { agents: [], has_more: false, next_cursor: null } } });
    renderWithClient(<AgentList canWrite={false} />);

    expect(await screen.findByText("A manager or an admin can create one.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New agent" })).not.toBeInTheDocument();
  });

  it("creates an agent by name and opens its editor", async () => {
    const requests = fakeApi({
      "GET /v1/convai/agents": { body: { agents: [], has_more: false, next_cursor: null } },
      "POST /v1/convai/agents/create": { body: { agent_id: "agent_new" } },
    });
    renderWithClient(<AgentList canWrite />);

    await userEvent.click(await screen.findByRole("button", { name: "New agent" }));
    const dialog = screen.getByRole("dialog", { name: "New agent" });
    await userEvent.type(within(dialog).getByLabelText("Agent name"), "Front desk");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create agent" }));

    await waitFor(() => expect(router.push).toHaveBeenCalledWith("/agents/edit/?id=agent_new"));
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ name: "Front desk", conversation_config: {} });
  });
});

describe("the agent editor", () => {
  function renderEditor(routes: Parameters<typeof fakeApi>[0] = {}) {
    const requests = fakeApi({
      [`GET ${AGENT_URL}`]: { body: AGENT },
      "GET /health": { body: { components: { providers: { available: { vad: ["silero"], stt: ["whisper", "deepgram"], llm: ["smollm2"], tts: ["piper"] } } } } },
      "POST /v1/agent-templates/preview": { body: { prompt: { text: "rendered", error: null }, first_message: { text: "Hello!", error: null }, system_variables: {} } },
      ...routes,
    });
    renderWithClient(<AgentEditor agentId={AGENT.agent_id} canWrite />);
    return requests;
  }

  it("saves only what changed, as a merge patch", async () => {
    const requests = renderEditor({ [`PATCH ${AGENT_URL}`]: (request) => ({ body: { ...AGENT, velox: { ...AGENT.velox, ...(request.body as { velox: object }).velox } } }) });
    const field = await screen.findByLabelText("After a statement (ms)");
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();

    fireEvent.change(field, { target: { value: "650" } });
    expect(screen.getByText("Unsaved changes")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ velox: { end_of_turn_silence_ms: 650 } });
  });

  it("shows each refusal of the API under its field until the field changes", async () => {
    renderEditor({
      [`PATCH ${AGENT_URL}`]: {
        status: 422,
        body: { detail: [{ loc: ["body", "velox", "barge_in_min_speech_ms"], msg: "Input should be greater than or equal to 20", type: "greater_than_equal" }] },
      },
    });
    const field = await screen.findByLabelText("Yield after (ms of speech)");

    fireEvent.change(field, { target: { value: "5" } });
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    expect(field).toHaveAccessibleDescription(/Input should be greater than or equal to 20/);
    expect(screen.getByText("Not saved: one field needs attention")).toBeInTheDocument();

    fireEvent.change(field, { target: { value: "50" } });
    expect(field).not.toHaveAttribute("aria-invalid");
  });

  it("removes a data-collection field with a null", async () => {
    const withField = { ...AGENT, platform_settings: { ...AGENT.platform_settings, data_collection: { budget: { type: "number", description: "Their budget" } } } };
    const requests = renderEditor({ [`GET ${AGENT_URL}`]: { body: withField }, [`PATCH ${AGENT_URL}`]: { body: AGENT } });

    await userEvent.click(await screen.findByRole("button", { name: "Remove field budget" }));
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(requests.some((r) => r.method === "PATCH")).toBe(true));
    expect(requests.find((r) => r.method === "PATCH")?.body).toEqual({ platform_settings: { data_collection: { budget: null } } });
  });

  it("previews the prompt through the API with sample values for its variables", async () => {
    const requests = renderEditor();
    const prompt = await screen.findByLabelText("System prompt");

    fireEvent.change(prompt, { target: { value: "You sell for {{ company }}." } });
    fireEvent.change(screen.getByLabelText("company"), { target: { value: "Acme" } });

    await waitFor(
      () => {
        const previews = requests.filter((r) => r.url === "/v1/agent-templates/preview");
        expect(previews.at(-1)?.body).toEqual({ prompt: "You sell for {{ company }}.", first_message: "Hello! How can I help you today?", dynamic_variables: { company: "Acme" } });
      },
      { timeout: 2000 },
    );
    expect(await screen.findByText("rendered")).toBeInTheDocument();
  });

  it("offers the providers the server has", async () => {
    renderEditor();
    await screen.findByLabelText("Speech to text");
    await waitFor(() => expect(screen.getByLabelText("Speech to text")).toHaveAccessibleDescription(/On this server: whisper, deepgram\./));
  });

  it("asks before deleting, then goes back to the list", async () => {
    const requests = renderEditor({ [`DELETE ${AGENT_URL}`]: { body: {} } });

    await userEvent.click(await screen.findByRole("button", { name: "Delete" }));
    const confirm = screen.getByRole("alertdialog", { name: "Delete Front desk?" });
    expect(requests.some((r) => r.method === "DELETE")).toBe(false);
    await userEvent.click(within(confirm).getByRole("button", { name: "Delete agent" }));

    await waitFor(() => expect(router.push).toHaveBeenCalledWith("/agents/"));
    expect(requests.some((r) => r.method === "DELETE")).toBe(true);
  });

  it("says so when the agent does not exist", async () => {
    fakeApi({ [`GET ${AGENT_URL}`]: { status: 404, body: { detail: { status: "agent_not_found", message: "Agent 'x' was not found." } } } });
    renderWithClient(<AgentEditor agentId={AGENT.agent_id} canWrite />);

    expect(await screen.findByText("This agent does not exist")).toBeInTheDocument();
  });
});
