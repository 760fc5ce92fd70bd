import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi } from "@/test/render";

import { api, readCookie, unwrap } from "./client";
import { ApiError } from "./errors";

afterEach(() => vi.unstubAllGlobals());

describe("the API client", () => {
  it("sends the CSRF cookie's value back as X-CSRF-Token on a request that changes something", async () => {
    document.cookie = "velox_csrf=token-123; path=/";
    const requests = fakeApi({ "DELETE /v1/convai/agents/agent_1": { body: {} }, "GET /v1/me": { body: {} } });

    await unwrap(api.DELETE("/v1/convai/agents/{agent_id}", { params: { path: { agent_id: "agent_1" } } }));
    await unwrap(api.GET("/v1/me"));

    expect(requests[0]?.headers.get("X-CSRF-Token")).toBe("token-123");
    expect(requests[1]?.headers.get("X-CSRF-Token")).toBeNull();
  });

  it("throws the API's error with its status and reason", async () => {
    fakeApi({ "POST /v1/auth/sign-in": { status: 401, body: { detail: { status: "invalid_credentials", message: "wrong email address or password" } } } });

    const failure = unwrap(api.POST("/v1/auth/sign-in", { body: { email: "a@b.co", password: "x" } }));

    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 401, code: "invalid_credentials", message: "Wrong email address or password" });
  });

  it("reads one cookie among several", () => {
    expect(readCookie("velox_csrf", "a=1; velox_csrf=x%3Dy; b=2")).toBe("x=y");
    expect(readCookie("velox_csrf", "a=1")).toBeNull();
  });
});
