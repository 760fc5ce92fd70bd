/** Velox's REST API as the field app uses it: bearer token, JSON, errors as `ApiError`. */

export type FieldOutcome =
  | "meeting_booked"
  | "interested"
  | "not_interested"
  | "call_back"
  | "wrong_number"
  | "do_not_call"
  | "completed";

export interface LastCall {
  conversation_id: string;
  attempt_number: number;
  outcome: string | null;
  status: string | null;
  start_time_unix_secs: number | null;
  duration_secs: number | null;
  summary: string;
  title: string;
  data_collected: Record<string, unknown>;
  call_back_at_unix_secs: number | null;
}

export interface LeadReport {
  outcome: string;
  note: string;
  call_back_at_unix_secs: number | null;
  recorded_at_unix_secs: number;
  recorded_by: string | null;
}

export interface Callback {
  callback_id: string;
  due_at_unix_secs: number;
  source: string;
  conversation_id: string | null;
  note: string;
}

export interface Lead {
  lead_id: string;
  campaign_id: string;
  campaign_name: string;
  phone_number: string;
  time_zone: string | null;
  variables: Record<string, unknown>;
  status: string;
  finished_reason: string;
  attempts_made: number;
  next_attempt_unix_secs: number | null;
  last_outcome: string | null;
  owner_email: string | null;
  last_call: LastCall | null;
  last_report: LeadReport | null;
  next_callback: Callback | null;
}

export interface LeadsPage {
  leads: Lead[];
  next_cursor: string | null;
}

export interface CallbackWithLead extends Callback {
  lead: Lead;
}

export interface SignedIn {
  token: string;
  expires_at_unix_secs: number;
  user: { email: string; role: string };
}

export interface Me {
  organization_id: string;
  organization_name: string;
  role: string;
  permissions: string[];
  email: string | null;
}

export interface OutcomeBody {
  outcome: FieldOutcome;
  note: string;
  call_back_at_unix: number | null;
}

export interface AgentChoice {
  agent_id: string;
  name: string;
}

export interface LeadCall {
  success: boolean;
  message: string;
  conversation_id: string;
  call_sid: string | null;
}

/** A list as the server (or, offline, the service worker's cache) answered it. */
export interface Synced<T> {
  value: T;
  /** When the server made this answer (its `Date` header): the time of the last sync. */
  syncedAt: Date | null;
}

/** The server answered with an error: `code` is its `detail.status`, `message` its words. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The request never got an answer (offline, server unreachable). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : "the network is unreachable");
    this.name = "NetworkError";
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function errorOf(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body: unknown = await response.json();
    const detail = (body as { detail?: unknown }).detail;
    if (detail && typeof detail === "object" && !Array.isArray(detail)) {
      const d = detail as { status?: unknown; message?: unknown };
      if (typeof d.status === "string") code = d.status;
      if (typeof d.message === "string") message = d.message;
    } else if (Array.isArray(detail) && detail.length > 0) {
      code = "invalid_request";
      const first = detail[0] as { msg?: unknown };
      if (typeof first.msg === "string") message = first.msg;
    } else if (typeof detail === "string") {
      message = detail;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

export class ApiClient {
  constructor(
    private readonly token: () => string | null,
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
    private readonly origin = "",
  ) {}

  private async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const all: Record<string, string> = { accept: "application/json", ...headers };
    const token = this.token();
    if (token) all.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers: all, credentials: "omit" };
    if (body !== undefined) {
      all["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await this.fetcher(this.origin + path, init);
    } catch (error) {
      throw new NetworkError(error);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private async json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const response = await this.send(method, path, body, headers);
    return (await response.json()) as T;
  }

  private async synced<T>(path: string): Promise<Synced<T>> {
    const response = await this.send("GET", path);
    const date = response.headers.get("date");
    const parsed = date ? new Date(date) : null;
    return {
      value: (await response.json()) as T,
      syncedAt: parsed && !Number.isNaN(parsed.getTime()) ? parsed : null,
    };
  }

  signIn(email: string, password: string): Promise<SignedIn> {
    return this.json("POST", "/v1/auth/sign-in", { email, password });
  }

  async signOut(): Promise<void> {
    await this.send("POST", "/v1/auth/sign-out");
  }

  me(): Promise<Me> {
    return this.json("GET", "/v1/me");
  }

  leads(): Promise<Synced<LeadsPage>> {
    return this.synced("/v1/me/leads?page_size=500");
  }

  callbacks(): Promise<Synced<{ callbacks: CallbackWithLead[] }>> {
    return this.synced("/v1/me/callbacks?limit=500");
  }

  recordOutcome(leadId: string, body: OutcomeBody, idempotencyKey: string): Promise<Lead> {
    return this.json("POST", `/v1/me/leads/${encodeURIComponent(leadId)}/outcome`, body, {
      "idempotency-key": idempotencyKey,
    });
  }

  callLead(leadId: string): Promise<LeadCall> {
    return this.json("POST", `/v1/me/leads/${encodeURIComponent(leadId)}/call`);
  }

  async agents(): Promise<AgentChoice[]> {
    const body = await this.json<{ agents: AgentChoice[] }>("GET", "/v1/me/agents");
    return body.agents;
  }

  /** A one-use conversation URL for `agentId` (refused with 403 for an agent I may not use). */
  async signedUrl(agentId: string): Promise<string> {
    const body = await this.json<{ signed_url: string }>(
      "GET",
      `/v1/convai/conversation/get-signed-url?agent_id=${encodeURIComponent(agentId)}`,
    );
    return body.signed_url;
  }

  async pushKey(): Promise<string> {
    const body = await this.json<{ vapid_public_key: string }>("GET", "/v1/me/push");
    return body.vapid_public_key;
  }

  async addPushSubscription(subscription: PushSubscriptionJSON): Promise<void> {
    await this.send("POST", "/v1/me/push-subscriptions", subscription);
  }

  async removePushSubscription(endpoint: string): Promise<void> {
    await this.send("DELETE", `/v1/me/push-subscriptions?endpoint=${encodeURIComponent(endpoint)}`);
  }
}
