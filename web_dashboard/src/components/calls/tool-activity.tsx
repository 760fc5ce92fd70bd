import type { Schemas } from "@/api/client";
import { Badge } from "@/components/ui/card";

type ToolCall = Schemas["TranscriptToolCall"];
type ToolResult = Schemas["TranscriptToolResult"];

const KINDS: Record<string, string> = { webhook: "Webhook", client: "Client", system: "Built-in" };

/** The arguments as the model wrote them, compact: `{"order_id":"A7"}` → `order_id: A7`. */
export function argumentsText(paramsAsJson: string): string {
  try {
    const parsed: unknown = JSON.parse(paramsAsJson);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const pairs = Object.entries(parsed as Record<string, unknown>).map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
      return pairs.length > 0 ? pairs.join(", ") : "no arguments";
    }
  } catch {
    // shown as written
  }
  return paramsAsJson;
}

/** A result for reading: an error's message, else the text the tool answered (cut when long). */
export function resultText(result: ToolResult): string {
  let text = result.result_value;
  if (result.is_error) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && "error" in parsed) text = String((parsed as { error: unknown }).error);
    } catch {
      // shown as written
    }
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * The tools the agent called in a turn, each with what it answered: its kind, arguments, result
 * or error, and how long it took. A result that never came (the call ended first) says so.
 */
export function ToolActivity({ calls, results }: { calls: ToolCall[]; results: ToolResult[] }) {
  if (calls.length === 0) return null;
  return (
    <ul aria-label="Tool calls" className="mt-1.5 space-y-1.5">
      {calls.map((call) => {
        const result = results.find((item) => item.request_id === call.request_id);
        return (
          <li key={call.request_id} className="rounded-md border border-line bg-surface px-3 py-2 text-xs">
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-mono font-semibold text-ink">{call.tool_name}</span>
              <Badge>{KINDS[call.type ?? ""] ?? call.type ?? "tool"}</Badge>
              {result?.is_error ? <Badge tone="warning">Error{result.error_type ? `: ${result.error_type}` : ""}</Badge> : null}
              {result?.tool_latency_secs != null ? <span className="tabular-nums text-muted">{result.tool_latency_secs.toFixed(2)} s</span> : null}
            </div>
            <p className="mt-0.5 text-muted">
              <span className="sr-only">Arguments: </span>
              {argumentsText(call.params_as_json)}
            </p>
            <p className="mt-0.5 break-words text-ink">
              <span className="sr-only">Result: </span>
              {result ? resultText(result) : <span className="text-muted">No result was recorded.</span>}
            </p>
          </li>
        );
      })}
    </ul>
  );
}
