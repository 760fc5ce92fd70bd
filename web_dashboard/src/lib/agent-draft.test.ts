import { describe, expect, it } from "vitest";

import { errorsByPath, freshKey, mergePatch, renameKey, templateVariables } from "./agent-draft";

describe("mergePatch", () => {
  it("sends only what changed, nested objects by key", () => {
    const before = { name: "Front desk", velox: { end_of_turn_silence_ms: 800, allow_barge_in: true } };
    const after = { name: "Front desk", velox: { end_of_turn_silence_ms: 600, allow_barge_in: true } };
    expect(mergePatch(before, after)).toEqual({ velox: { end_of_turn_silence_ms: 600 } });
  });

  it("removes a data-collection field with a null, and replaces lists whole", () => {
    const before = { platform_settings: { data_collection: { budget: { type: "number" }, city: { type: "string" } } }, tags: ["a", "b"] };
    const after = { platform_settings: { data_collection: { city: { type: "string" } } }, tags: ["a"] };
    expect(mergePatch(before, after)).toEqual({ platform_settings: { data_collection: { budget: null } }, tags: ["a"] });
  });

  it("is undefined when nothing changed", () => {
    expect(mergePatch({ a: { b: [1, 2] } }, { a: { b: [1, 2] } })).toBeUndefined();
  });
});

describe("the editor's helpers", () => {
  it("finds the variables a template names, not Jinja's words or system variables", () => {
    expect(templateVariables("Hi {{ first_name }} from {{company}}.", "{% if plan == 'pro' %}{{ system__caller_id }}{% endif %}")).toEqual([
      "first_name",
      "company",
      "plan",
    ]);
  });

  it("joins two errors of one field", () => {
    expect(errorsByPath([{ path: "name", message: "Too short." }, { path: "name", message: "Bad." }])).toEqual({ name: "Too short. Bad." });
  });

  it("renames a key keeping the order, and never onto another key", () => {
    expect(Object.keys(renameKey({ a: 1, b: 2, c: 3 }, "b", "x"))).toEqual(["a", "x", "c"]);
    expect(renameKey({ a: 1, b: 2 }, "a", "b")).toEqual({ a: 1, b: 2 });
    expect(freshKey("field", ["field", "field_2"])).toBe("field_3");
  });
});
