import "@/test/navigation-mock";

import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Agent } from "@/lib/agent-draft";
import agentFixture from "@/test/fixtures/agent.json";
import { fakeApi, renderWithClient, type Recorded } from "@/test/render";

import { AgentEditor } from "./agent-editor";

const AGENT = agentFixture as unknown as Agent;
const AGENT_URL = `/v1/convai/agents/${AGENT.agent_id}`;
const KB = "/v1/convai/knowledge-base";

afterEach(() => vi.unstubAllGlobals());

// Node's Request (undici) reads a multipart body's files through `Blob.stream()`, which jsdom's
// Blob lacks (the body would never be read); a browser's Blob has it. Read through FileReader.
if (!("stream" in Blob.prototype)) {
  Object.defineProperty(Blob.prototype, "stream", {
    value(this: Blob) {
      return new ReadableStream<Uint8Array>({
        start: (controller) => {
          const reader = new FileReader();
          reader.onload = () => {
            controller.enqueue(new Uint8Array(reader.result as ArrayBuffer));
            controller.close();
          };
          reader.onerror = () => controller.error(reader.error);
          reader.readAsArrayBuffer(this);
        },
      });
    },
  });
}

function tool(id: string, name: string, method: string, url: string) {
  return {
    id,
    tool_config: { type: "webhook", name, description: `Looks up ${name}`, api_schema: { url, method } },
    access_info: { is_creator: true, creator_name: "Acme", creator_email: "", role: "admin" },
    usage_stats: { avg_latency_secs: 0, total_calls: 0 },
  };
}

function document(id: string, name: string, type: "text" | "url" | "file") {
  return {
    id,
    name,
    type,
    metadata: { created_at_unix_secs: 1764979200, last_updated_at_unix_secs: 1764979200, size_bytes: 120 },
    supported_usages: ["prompt", "auto"],
    access_info: { is_creator: true, creator_name: "Acme", creator_email: "", role: "admin" },
    dependent_agents: [],
  };
}

function index(status: string, progress: number, error: string | null = null) {
  return { indexes: [{ id: "x:all_minilm_l6_v2", model: "all_minilm_l6_v2", status, progress_percentage: progress, document_model_index_usage: { used_bytes: 0 }, error }] };
}

function withPrompt(prompt: Partial<Agent["conversation_config"]["agent"]["prompt"]>): Agent {
  const agent = structuredClone(AGENT);
  Object.assign(agent.conversation_config.agent.prompt, prompt);
  return agent;
}

/** Answers a PATCH with the agent it would make (the prompt's changes merged in). */
function patched(agent: Agent) {
  return (request: Recorded) => {
    const body = request.body as { conversation_config?: { agent?: { prompt?: object } } };
    return { body: withPrompt({ ...agent.conversation_config.agent.prompt, ...(body.conversation_config?.agent?.prompt ?? {}) }) };
  };
}

function renderEditor(agent: Agent, routes: Parameters<typeof fakeApi>[0] = {}, canWrite = true) {
  const requests = fakeApi({
    [`GET ${AGENT_URL}`]: { body: agent },
    "GET /health": { body: { components: { providers: { available: { vad: [], stt: [], llm: [], tts: [] } } } } },
    "POST /v1/agent-templates/preview": { body: { prompt: { text: "", error: null }, first_message: { text: "", error: null }, system_variables: {} } },
    "GET /v1/convai/tools": { body: { tools: [], has_more: false, next_cursor: null } },
    [`GET ${KB}`]: { body: { documents: [], has_more: false, next_cursor: null } },
    [`PATCH ${AGENT_URL}`]: patched(agent),
    ...routes,
  });
  renderWithClient(<AgentEditor agentId={AGENT.agent_id} canWrite={canWrite} />);
  return requests;
}

function patchBody(requests: Recorded[]) {
  return requests.find((r) => r.method === "PATCH")?.body as { conversation_config: { agent: { prompt: Record<string, unknown> } } } | undefined;
}

describe("the agent editor's tools", () => {
  it("lists the workspace's webhook tools and saves the ones attached", async () => {
    const requests = renderEditor(withPrompt({ tool_ids: ["tool_b"] }), {
      "GET /v1/convai/tools": {
        body: { tools: [tool("tool_a", "get_order", "GET", "https://orders.example.com/orders/{id}"), tool("tool_b", "book_visit", "POST", "https://cal.example.com/book")], has_more: false, next_cursor: null },
      },
    });
    const list = await screen.findByRole("list", { name: "Webhook tools" });
    expect(within(list).getByText("https://orders.example.com/orders/{id}")).toBeInTheDocument();
    expect(within(list).getByText("Looks up get_order")).toBeInTheDocument();
    const order = within(list).getByRole("checkbox", { name: /get_order/ });
    const book = within(list).getByRole("checkbox", { name: /book_visit/ });
    expect(order).not.toBeChecked();
    expect(book).toBeChecked();
    expect(order).toHaveAccessibleDescription(/GET https:\/\/orders\.example\.com/);

    await userEvent.click(order);
    await userEvent.click(book);
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(patchBody(requests)).toEqual({ conversation_config: { agent: { prompt: { tool_ids: ["tool_a"] } } } });
  });

  it("says how to create a tool when the workspace has none", async () => {
    renderEditor(AGENT);
    expect(await screen.findByText("No webhook tools in this workspace yet")).toBeInTheDocument();
    expect(screen.getByText("POST /v1/convai/tools")).toBeInTheDocument();
  });

  it("shows the API's refusal of an unknown tool and lets it be detached", async () => {
    const requests = renderEditor(withPrompt({ tool_ids: ["tool_gone"] }), {
      [`PATCH ${AGENT_URL}`]: {
        status: 422,
        body: { detail: [{ loc: ["body", "conversation_config", "agent", "prompt", "tool_ids"], msg: "no tool 'tool_gone' in this workspace (POST /v1/convai/tools)", type: "unknown_tool" }] },
      },
    });
    fireEvent.change(await screen.findByLabelText("Name"), { target: { value: "Renamed" } });
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    const section = screen.getByRole("region", { name: "Tools" });
    expect(await within(section).findByText(/no tool 'tool_gone' in this workspace/i)).toBeInTheDocument();
    await userEvent.click(within(section).getByRole("button", { name: "Detach tool_gone" }));
    expect(within(section).queryByText(/no tool 'tool_gone'/i)).not.toBeInTheDocument();
    expect(requests.filter((r) => r.method === "PATCH")).toHaveLength(1);
  });
});

describe("a new webhook tool", () => {
  it("is created with its URL's parameters and attached", async () => {
    const requests = renderEditor(AGENT, {
      "POST /v1/convai/tools": { body: tool("tool_new", "get_order", "GET", "https://orders.example.com/orders/{order_id}") },
    });
    await userEvent.click(await screen.findByRole("button", { name: "New webhook tool" }));
    const dialog = screen.getByRole("dialog", { name: "New webhook tool" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "get_order");
    await userEvent.type(within(dialog).getByLabelText("Description"), "Look an order up");
    const url = within(dialog).getByLabelText("URL");
    await userEvent.clear(url);
    await userEvent.type(url, "https://orders.example.com/orders/{{order_id}");
    await userEvent.type(within(dialog).getByLabelText("What {order_id} is"), "the order number");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create and attach" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(requests.find((r) => r.method === "POST" && r.url === "/v1/convai/tools")?.body).toEqual({
      tool_config: {
        type: "webhook",
        name: "get_order",
        description: "Look an order up",
        api_schema: { url: "https://orders.example.com/orders/{order_id}", method: "GET", path_params_schema: { order_id: { type: "string", description: "the order number" } } },
      },
    });
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(patchBody(requests)).toBeDefined());
    expect(patchBody(requests)?.conversation_config.agent.prompt.tool_ids).toEqual(["tool_new"]);
  });

  it("shows the API's refusal beside the field", async () => {
    renderEditor(AGENT, {
      "POST /v1/convai/tools": {
        status: 422,
        body: { detail: [{ loc: ["body", "tool_config", "name"], msg: "String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", type: "string_pattern_mismatch" }] },
      },
    });
    await userEvent.click(await screen.findByRole("button", { name: "New webhook tool" }));
    const dialog = screen.getByRole("dialog", { name: "New webhook tool" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "get order");
    await userEvent.type(within(dialog).getByLabelText("URL"), "api.example.com/hours");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create and attach" }));

    const name = within(dialog).getByLabelText("Name");
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(name).toHaveAccessibleDescription(/String should match pattern/);
  });
});

describe("the agent editor's knowledge", () => {
  it("shows each document's index status, changes its usage, detaches one", async () => {
    const agent = withPrompt({
      knowledge_base: [
        { type: "text", name: "Policies", id: "kb_policies", usage_mode: "auto" },
        { type: "url", name: "Prices", id: "kb_prices", usage_mode: "auto" },
      ],
    });
    const requests = renderEditor(agent, {
      [`GET ${KB}/kb_policies/rag-index`]: { body: index("processing", 40) },
      [`GET ${KB}/kb_prices/rag-index`]: { body: index("failed", 0, "the page had no text") },
    });
    const progress = await screen.findByRole("progressbar", { name: "Indexing Policies" });
    expect(progress).toHaveAttribute("aria-valuenow", "40");
    expect(await screen.findByText("the page had no text")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Index again" })).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText("How Policies is used"), "prompt");
    await userEvent.click(screen.getByRole("button", { name: "Detach Prices" }));
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(patchBody(requests)).toEqual({
      conversation_config: { agent: { prompt: { knowledge_base: [{ type: "text", name: "Policies", id: "kb_policies", usage_mode: "prompt" }] } } },
    });
  });

  it("reads a document's index again until it is built", async () => {
    let reads = 0;
    renderEditor(withPrompt({ knowledge_base: [{ type: "text", name: "Policies", id: "kb_policies", usage_mode: "auto" }] }), {
      [`GET ${KB}/kb_policies/rag-index`]: () => ({ body: (reads += 1) === 1 ? index("processing", 50) : index("succeeded", 100) }),
    });
    expect(await screen.findByRole("progressbar", { name: "Indexing Policies" })).toBeInTheDocument();
    // Read again after 2 s (a real timer): a generous bound for a busy machine.
    expect(await screen.findByText("Indexed", {}, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
    expect(reads).toBe(2);
  }, 15_000);

  it("attaches a document the workspace already has", async () => {
    const requests = renderEditor(AGENT, {
      [`GET ${KB}`]: { body: { documents: [document("kb_faq", "FAQ", "file")], has_more: false, next_cursor: null } },
      [`GET ${KB}/kb_faq/rag-index`]: { body: index("succeeded", 100) },
    });
    await userEvent.selectOptions(await screen.findByLabelText("Attach a document of this workspace"), "kb_faq");
    await userEvent.click(screen.getByRole("button", { name: "Attach" }));
    expect(within(screen.getByRole("list", { name: "Attached documents" })).getByText("FAQ")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(patchBody(requests)).toBeDefined());
    expect(patchBody(requests)?.conversation_config.agent.prompt.knowledge_base).toEqual([{ type: "file", name: "FAQ", id: "kb_faq", usage_mode: "auto" }]);
  });

  it("uploads a file as a new document and attaches it", async () => {
    const requests = renderEditor(AGENT, {
      [`POST ${KB}/file`]: { body: { id: "kb_new", name: "prices.md", folder_path: [] } },
      [`GET ${KB}/kb_new/rag-index`]: { body: index("created", 0) },
    });
    await userEvent.click(await screen.findByRole("button", { name: "Add a new document" }));
    const form = screen.getByRole("form", { name: "New document" });
    await userEvent.click(within(form).getByLabelText("A file"));
    await userEvent.upload(within(form).getByLabelText("File"), new File(["# Prices\nA visit is 40 euros."], "prices.md", { type: "text/markdown" }));
    await userEvent.click(within(form).getByRole("button", { name: "Add and attach" }));

    expect(await screen.findByText(/“prices\.md” was added to the workspace and attached/)).toBeInTheDocument();
    const upload = requests.find((r) => r.method === "POST" && r.url === `${KB}/file`);
    expect(upload?.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(String(upload?.body)).toContain('filename="prices.md"');
    expect(String(upload?.body)).toContain("A visit is 40 euros.");
    expect(await screen.findByText("Waiting to be indexed")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(patchBody(requests)).toBeDefined());
    expect(patchBody(requests)?.conversation_config.agent.prompt.knowledge_base).toEqual([{ type: "file", name: "prices.md", id: "kb_new", usage_mode: "auto" }]);
  });

  it("adds a text document and shows the API's refusal of a web page", async () => {
    const requests = renderEditor(AGENT, {
      [`POST ${KB}/text`]: { body: { id: "kb_hours", name: "Opening hours", folder_path: [] } },
      [`POST ${KB}/url`]: { status: 422, body: { detail: { status: "unsafe_url", message: "the address 10.0.0.5 is private" } } },
      [`GET ${KB}/kb_hours/rag-index`]: { body: index("succeeded", 100) },
    });
    await userEvent.click(await screen.findByRole("button", { name: "Add a new document" }));
    let form = screen.getByRole("form", { name: "New document" });
    await userEvent.type(within(form).getByLabelText("Name (optional)"), "Opening hours");
    await userEvent.type(within(form).getByLabelText("Text"), "Open 9 to 5.");
    await userEvent.click(within(form).getByRole("button", { name: "Add and attach" }));
    expect(await screen.findByText(/“Opening hours” was added/)).toBeInTheDocument();
    expect(requests.find((r) => r.url === `${KB}/text`)?.body).toEqual({ text: "Open 9 to 5.", name: "Opening hours" });

    await userEvent.click(screen.getByRole("button", { name: "Add a new document" }));
    form = screen.getByRole("form", { name: "New document" });
    await userEvent.click(within(form).getByLabelText("A web page"));
    await userEvent.type(within(form).getByLabelText("Page address"), "http://10.0.0.5/");
    await userEvent.click(within(form).getByRole("button", { name: "Add and attach" }));
    expect(await within(form).findByText("The address 10.0.0.5 is private")).toBeInTheDocument();
    expect(within(screen.getByRole("list", { name: "Attached documents" })).getAllByRole("listitem")).toHaveLength(1);
  });

  it("shows the API's limits and its refusal of a RAG setting", async () => {
    renderEditor(AGENT, {
      [`PATCH ${AGENT_URL}`]: {
        status: 422,
        body: { detail: [{ loc: ["body", "conversation_config", "agent", "prompt", "rag", "max_vector_distance"], msg: "Input should be less than or equal to 2", type: "less_than_equal" }] },
      },
    });
    const distance = await screen.findByLabelText("Largest vector distance");
    expect(distance).toHaveAccessibleDescription(/0 to 2/);
    expect(screen.getByLabelText("Passages per turn, at most")).toHaveAccessibleDescription("1 to 100.");

    fireEvent.change(distance, { target: { value: "3" } });
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(distance).toHaveAttribute("aria-invalid", "true"));
    expect(distance).toHaveAccessibleDescription(/Input should be less than or equal to 2/);
    expect(screen.getByRole("link", { name: "conversation_config.agent.prompt.rag.max_vector_distance" })).toHaveAttribute("href", "#knowledge");
  });

  it("queues a failed index again", async () => {
    const requests = renderEditor(withPrompt({ knowledge_base: [{ type: "url", name: "Prices", id: "kb_prices", usage_mode: "auto" }] }), {
      [`GET ${KB}/kb_prices/rag-index`]: { body: index("failed", 0, "the page timed out") },
      [`POST ${KB}/kb_prices/rag-index`]: { body: index("created", 0).indexes[0] },
    });
    await userEvent.click(await screen.findByRole("button", { name: "Index again" }));

    expect(await screen.findByText("Waiting to be indexed")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST" && r.url === `${KB}/kb_prices/rag-index`)?.body).toEqual({ model: "all_minilm_l6_v2" });
  });
});

describe("the Tools and Knowledge of a role that may only read", () => {
  it("shows what is attached and offers no change", async () => {
    renderEditor(
      withPrompt({ tool_ids: ["tool_a"], knowledge_base: [{ type: "text", name: "Policies", id: "kb_policies", usage_mode: "prompt" }] }),
      {
        "GET /v1/convai/tools": { body: { tools: [tool("tool_a", "get_order", "GET", "https://orders.example.com/orders")], has_more: false, next_cursor: null } },
        [`GET ${KB}`]: { body: { documents: [document("kb_other", "Other", "text")], has_more: false, next_cursor: null } },
        [`GET ${KB}/kb_policies/rag-index`]: { body: index("failed", 0, "no text") },
      },
      false,
    );
    const order = await screen.findByRole("checkbox", { name: /get_order/ });
    expect(order).toBeChecked();
    expect(order).toBeDisabled();
    expect(screen.getByLabelText("How Policies is used")).toBeDisabled();
    expect(screen.getByRole("button", { name: "Detach Policies" })).toBeDisabled();
    expect(await screen.findByText("no text")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Index again" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add a new document" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Attach a document of this workspace")).not.toBeInTheDocument();
  });
});
