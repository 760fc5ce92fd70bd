/**
 * An agent being edited: the API's agent body (app/config/agent.py) as a draft, the PATCH that
 * saves it, and the API's validation errors by field.
 */
import type { Schemas } from "@/api/client";
import type { FieldError } from "@/api/errors";

/**
 * The schema marks fields with a default optional (a request may leave them out); an agent the
 * API sends back has every one of them, which this type says.
 */
export type Complete<T> = T extends (infer Item)[]
  ? Complete<Item>[]
  : T extends object
    ? { [Key in keyof T]-?: Complete<T[Key]> }
    : T;

export type Agent = Complete<Schemas["AgentResponse"]>;
export type AgentDraft = Pick<Agent, "name" | "tags" | "conversation_config" | "platform_settings" | "velox">;
export type DataCollectionField = Schemas["DataCollectionField"];
export type EvaluationCriterion = Schemas["EvaluationCriterion"];
export type AudioFormat = Schemas["TtsSection"]["agent_output_audio_format"];
export type ClientTool = Schemas["PromptTool"];

export function draftOf(agent: Agent): AgentDraft {
  return structuredClone({
    name: agent.name,
    tags: agent.tags,
    conversation_config: agent.conversation_config,
    platform_settings: agent.platform_settings,
    velox: agent.velox,
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The JSON Merge Patch (RFC 7396) that turns `before` into `after`: changed values, objects by
 * their changed keys, removed keys as null (the API removes them), lists whole. Undefined when
 * nothing changed.
 */
export function mergePatch(before: unknown, after: unknown): Json | undefined {
  if (isObject(before) && isObject(after)) {
    const patch: Record<string, Json> = {};
    for (const key of Object.keys(before)) {
      if (!(key in after) || after[key] === undefined) patch[key] = null;
    }
    for (const [key, value] of Object.entries(after)) {
      if (value === undefined) continue;
      const change = key in before ? mergePatch(before[key], value) : (value as Json);
      if (change !== undefined) patch[key] = change;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : (after as Json);
}

/** Each field's API error by its dot-joined path; the ones no field shows are listed too. */
export function errorsByPath(errors: readonly FieldError[]): Record<string, string> {
  const byPath: Record<string, string> = {};
  for (const error of errors) {
    byPath[error.path] = byPath[error.path] ? `${byPath[error.path]} ${error.message}` : error.message;
  }
  return byPath;
}

/** The variables a template names (`{{ company }}`, `{% if plan %}`), system ones left out. */
export function templateVariables(...sources: string[]): string[] {
  const names = new Set<string>();
  const keywords = new Set(["if", "else", "elif", "endif", "for", "endfor", "in", "not", "and", "or", "is", "true", "false", "none", "set", "loop", "range"]);
  for (const source of sources) {
    for (const block of source.matchAll(/\{[{%]([\s\S]*?)[}%]\}/g)) {
      for (const word of (block[1] ?? "").matchAll(/(?<![.\w'"])([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = word[1] ?? "";
        if (!keywords.has(name.toLowerCase()) && !name.startsWith("system__")) names.add(name);
      }
    }
  }
  return [...names];
}

/** Every audio format the API accepts; `satisfies` + the check below keep it the schema's list. */
export const AUDIO_FORMATS = ["pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "pcm_48000", "ulaw_8000"] as const satisfies readonly AudioFormat[];
type MissingFormat = Exclude<AudioFormat, (typeof AUDIO_FORMATS)[number]>;
const everyFormatListed: MissingFormat extends never ? true : MissingFormat = true;
void everyFormatListed;

export const DATA_TYPES = ["string", "boolean", "integer", "number"] as const satisfies readonly DataCollectionField["type"][];
type MissingType = Exclude<DataCollectionField["type"], (typeof DATA_TYPES)[number]>;
const everyTypeListed: MissingType extends never ? true : MissingType = true;
void everyTypeListed;

/** A name not yet among `taken`: `base`, else `base_2`, `base_3`... */
export function freshKey(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let index = 2; ; index += 1) if (!used.has(`${base}_${index}`)) return `${base}_${index}`;
}

/** A map with one key renamed in place (order kept); refused (unchanged) if the name is taken. */
export function renameKey<T>(map: Record<string, T>, from: string, to: string): Record<string, T> {
  if (from === to || to in map) return map;
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key === from ? to : key, value]));
}
