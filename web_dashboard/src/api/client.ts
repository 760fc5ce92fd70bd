/**
 * The typed Velox API client: `openapi-fetch` over the types `openapi-typescript` generates from
 * the API's own schema (`npm run generate:api`; a test fails when they are stale).
 *
 * A signed-in browser holds two cookies: `velox_session` (HttpOnly, sent by the browser) and
 * `velox_csrf`, whose value must come back as the `X-CSRF-Token` header on every request that
 * changes something (app/api/deps.py). The middleware below adds it.
 */
import createClient, { type Middleware } from "openapi-fetch";

import { ApiError, apiErrorFrom } from "./errors";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

export const CSRF_COOKIE = "velox_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return null;
}

export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      const token = readCookie(CSRF_COOKIE);
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
};

// The page's own origin: the API serves the dashboard. (No window while Next prerenders the
// static pages; nothing is requested then.)
const origin = typeof window === "undefined" ? "" : window.location.origin;
export const api = createClient<paths>({
  baseUrl: origin,
  credentials: "same-origin",
  // Looked up per request, not kept from load time (tests stand a fake in).
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(csrfMiddleware);

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's data, or an `ApiError` thrown with the API's own message. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) throw apiErrorFrom(response.status, error);
  return data as T;
}

export { ApiError };
