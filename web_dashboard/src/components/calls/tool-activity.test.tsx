import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { CallTranscript } from "./call-transcript";
import { argumentsText, ToolActivity } from "./tool-activity";

const lookup = {
  type: "webhook",
  request_id: "call_1",
  tool_name: "get_order_status",
  params_as_json: '{"order_id": "A7"}',
  tool_has_been_called: true,
  tool_details: { type: "webhook", method: "GET", url: "https://orders.example.com/orders/A7" },
};
const found = {
  type: "webhook",
  request_id: "call_1",
  tool_name: "get_order_status",
  result_value: '{"status": "shipped", "eta": "Tuesday"}',
  is_error: false,
  tool_has_been_called: true,
  tool_latency_secs: 3.04,
};

describe("tool calls on the call page", () => {
  it("shows each call with its arguments, result and latency", () => {
    render(<ToolActivity calls={[lookup]} results={[found]} />);
    const item = within(screen.getByRole("list", { name: "Tool calls" })).getByRole("listitem");
    expect(item).toHaveTextContent("get_order_status");
    expect(item).toHaveTextContent("Webhook");
    expect(item).toHaveTextContent("Arguments: order_id: A7");
    expect(item).toHaveTextContent('Result: {"status": "shipped", "eta": "Tuesday"}');
    expect(item).toHaveTextContent("3.04 s");
  });

  it("says what went wrong when the tool failed, and when no result came", () => {
    const failed = { ...found, is_error: true, error_type: "timeout", result_value: '{"error": "the tool did not answer within 10 s"}' };
    const { rerender } = render(<ToolActivity calls={[lookup]} results={[failed]} />);
    expect(screen.getByText("Error: timeout")).toBeInTheDocument();
    expect(screen.getByText(/the tool did not answer within 10 s/)).toBeInTheDocument();

    rerender(<ToolActivity calls={[lookup]} results={[]} />);
    expect(screen.getByText("No result was recorded.")).toBeInTheDocument();
  });

  it("writes arguments compactly and leaves text that is not an object as written", () => {
    expect(argumentsText("{}")).toBe("no arguments");
    expect(argumentsText('{"n": 2, "ok": true}')).toBe("n: 2, ok: true");
    expect(argumentsText("not json")).toBe("not json");
  });

  it("puts a turn's tool calls beside that turn in the transcript", () => {
    const transcript = [
      { role: "user", message: "Where is order A7?", time_in_call_secs: 2, interrupted: false, velox_source: "voice", velox_metrics: {} },
      { role: "agent", message: "Let me look that up.", time_in_call_secs: 4, interrupted: false, velox_source: "voice", velox_metrics: {}, tool_calls: [lookup], tool_results: [found] },
    ];
    render(<CallTranscript conversationId="conv_1" transcript={transcript} hasAudio={false} />);
    const lines = within(screen.getByRole("list", { name: "Transcript" })).getAllByRole("listitem");
    expect(within(lines[0]!).queryByRole("list", { name: "Tool calls" })).toBeNull();
    expect(within(lines[1]!).getByRole("list", { name: "Tool calls" })).toHaveTextContent("get_order_status");
  });
});
