import { describe, expect, it } from "vitest";

import { ApiError, apiErrorFrom, errorMessage } from "./errors";

describe("apiErrorFrom", () => {
  it("keeps the API's reason and message, starting it as a sentence", () => {
    const error = apiErrorFrom(410, { detail: { status: "invalid_invite", message: "this invite has expired; ask an admin for a new one" } });
    expect(error.status).toBe(410);
    expect(error.code).toBe("invalid_invite");
    expect(error.message).toBe("This invite has expired; ask an admin for a new one");
  });

  it("names each invalid field of a 422 by its path in the body", () => {
    const error = apiErrorFrom(422, {
      detail: [
        { loc: ["body", "conversation_config", "agent", "prompt", "prompt"], msg: "Value error, template error on line 1: unexpected end", type: "value_error" },
        { loc: ["body", "velox", "barge_in_min_speech_ms"], msg: "Input should be greater than or equal to 20", type: "greater_than_equal" },
      ],
    });
    expect(error.fieldErrors).toEqual([
      { path: "conversation_config.agent.prompt.prompt", message: "Template error on line 1: unexpected end" },
      { path: "velox.barge_in_min_speech_ms", message: "Input should be greater than or equal to 20" },
    ]);
    expect(error.message).toBe("2 fields need attention.");
  });

  it("says what to do when the body says nothing", () => {
    expect(apiErrorFrom(502, undefined).message).toMatch(/try again/i);
    expect(apiErrorFrom(401, "").message).toMatch(/sign in again/i);
  });
});

describe("sentence", () => {
  it("starts a message as a sentence, but not a parameter's name", async () => {
    const { sentence } = await import("./errors");
    expect(sentence("the invite has expired")).toBe("The invite has expired");
    expect(sentence("call_start_after_unix (5) must be before ...")).toBe("call_start_after_unix (5) must be before ...");
  });
});

describe("errorMessage", () => {
  it("explains a network failure", () => {
    expect(errorMessage(new TypeError("Failed to fetch"))).toMatch(/cannot be reached/);
    expect(errorMessage(new ApiError(403, "forbidden", "A support may not do this"))).toBe("A support may not do this");
  });
});
