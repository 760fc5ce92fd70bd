/**
 * The API's errors as the dashboard shows them.
 *
 * Velox answers in ElevenLabs' shape, `{"detail": {"status", "message"}}`, and a 422 in
 * FastAPI's, `{"detail": [{"loc": ["body", ...], "msg"}]}`: each invalid field named by its
 * path, which the editor shows next to that field.
 */

export interface FieldError {
  /** The field's path in the request body, dot-joined (`conversation_config.agent.language`). */
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  /** The API's machine-readable reason (`invalid_credentials`, `account_locked`...). */
  readonly code: string;
  readonly fieldErrors: FieldError[];

  constructor(status: number, code: string, message: string, fieldErrors: FieldError[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldPath(loc: unknown): string {
  if (!Array.isArray(loc)) return "";
  const parts = loc.map(String);
  if (parts[0] === "body" || parts[0] === "query" || parts[0] === "path") parts.shift();
  return parts.join(".");
}

const FALLBACK: Record<number, string> = {
  401: "You are not signed in, or your session has ended. Sign in again.",
  403: "Your role does not allow this.",
  404: "It was not found; it may have been deleted.",
  413: "That is too large to send.",
  429: "Too many attempts. Wait a moment and try again.",
};

/** The API's messages are lower-case clauses ("this invite has expired; ..."): start them as a sentence. */
export function sentence(text: string): string {
  if (/^[a-z]+_[a-z0-9_]*\b/.test(text)) return text; // it starts with a parameter's name
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An `ApiError` from a response's status and parsed JSON body (anything, or nothing). */
export function apiErrorFrom(status: number, body: unknown): ApiError {
  const detail = isRecord(body) ? body.detail : undefined;
  if (Array.isArray(detail)) {
    const fields = detail.filter(isRecord).map((item) => ({
      path: fieldPath(item.loc),
      // Pydantic starts a custom check's message "Value error, ": the message is the rest.
      message: typeof item.msg === "string" ? sentence(item.msg.replace(/^Value error, /, "")) : "Invalid value",
    }));
    const summary =
      fields.length === 1 && fields[0]
        ? `${fields[0].path || "The request"}: ${fields[0].message}`
        : `${fields.length} fields need attention.`;
    return new ApiError(status, "validation_error", summary, fields);
  }
  if (isRecord(detail) && typeof detail.message === "string") {
    const code = typeof detail.status === "string" ? detail.status : "error";
    return new ApiError(status, code, sentence(detail.message));
  }
  if (typeof detail === "string") return new ApiError(status, "error", detail);
  const message =
    FALLBACK[status] ??
    (status >= 500
      ? `The server failed (HTTP ${status}). Try again; if it keeps failing, check the server's log.`
      : `The request failed (HTTP ${status}).`);
  return new ApiError(status, "error", message);
}

/** What to tell a person about any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server cannot be reached. Check your connection and try again.";
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
