"use client";

import { useQuery } from "@tanstack/react-query";

import { api } from "@/api/client";

export type Role = "vad" | "stt" | "llm" | "tts";
export type Available = Record<Role, string[]>;

/**
 * The providers this server has registered, per role, from `GET /health` (its
 * `components.providers.available`): the names an agent may choose. A degraded server answers
 * 503 with the same body, which still lists them.
 */
export function useAvailableProviders() {
  return useQuery({
    queryKey: ["health", "providers"],
    staleTime: 5 * 60_000,
    queryFn: async (): Promise<Available> => {
      const { data, error } = await api.GET("/health");
      return parseAvailable(data ?? error);
    },
  });
}

export function parseAvailable(body: unknown): Available {
  const empty: Available = { vad: [], stt: [], llm: [], tts: [] };
  if (typeof body !== "object" || body === null) return empty;
  const providers = (body as { components?: { providers?: { available?: unknown } } }).components?.providers?.available;
  if (typeof providers !== "object" || providers === null) return empty;
  const names = (role: Role): string[] => {
    const list = (providers as Record<string, unknown>)[role];
    return Array.isArray(list) ? list.filter((name): name is string => typeof name === "string") : [];
  };
  return { vad: names("vad"), stt: names("stt"), llm: names("llm"), tts: names("tts") };
}
