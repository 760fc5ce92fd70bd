/** The outcome queue: an outcome is written to IndexedDB first, with its own Idempotency-Key,
 * then sent; whatever could not be sent is sent again when the network is back (the `online`
 * event, the app starting). The server stores a write sent twice with the same key once, so a
 * write whose answer was lost is safe to send again. */

import { ApiError, NetworkError, type ApiClient, type OutcomeBody } from "./api";
import type { FieldDatabase, QueuedOutcome } from "./store";

export interface FlushResult {
  sent: number;
  /** Still waiting: the network failed, or the server could not answer now. */
  waiting: number;
  rejected: number;
}

type Listener = (items: QueuedOutcome[]) => void;

/** Answers that will never change however often the write is sent again. */
function isFinalRefusal(error: ApiError): boolean {
  if (error.httpStatus === 409 && error.code === "lead_busy") return false; // a call is on: later
  if (error.httpStatus === 401 || error.httpStatus === 408 || error.httpStatus === 429) return false;
  return error.httpStatus >= 400 && error.httpStatus < 500;
}

export class OutcomeQueue {
  private flushing: Promise<FlushResult> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly db: FieldDatabase,
    private readonly api: ApiClient,
    private readonly newKey: () => string = () => crypto.randomUUID(),
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Every queued outcome, oldest first. */
  async items(): Promise<QueuedOutcome[]> {
    return this.db.getAllFromIndex("outbox", "byQueuedAt");
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    void this.items().then(listener);
    return () => this.listeners.delete(listener);
  }

  private async changed(): Promise<void> {
    const items = await this.items();
    for (const listener of this.listeners) listener(items);
  }

  /** Keep the outcome on the phone (it survives a restart) before anything is sent. */
  async enqueue(leadId: string, leadName: string, body: OutcomeBody): Promise<QueuedOutcome> {
    const item: QueuedOutcome = {
      key: this.newKey(),
      leadId,
      leadName,
      body,
      queuedAtMs: this.now(),
      tries: 0,
      state: "waiting",
      lastError: null,
    };
    await this.db.put("outbox", item);
    await this.changed();
    return item;
  }

  async discard(key: string): Promise<void> {
    await this.db.delete("outbox", key);
    await this.changed();
  }

  /** Send the waiting outcomes in the order they were recorded; one flush at a time (a second
   * call while one runs gets the same result). Stops at the first network failure. */
  flush(): Promise<FlushResult> {
    if (this.flushing === null) {
      this.flushing = this.sendAll().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async sendAll(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, waiting: 0, rejected: 0 };
    const items = await this.items();
    let reachable = true;
    for (const item of items) {
      if (item.state === "rejected") {
        result.rejected += 1;
        continue;
      }
      if (!reachable) {
        result.waiting += 1;
        continue;
      }
      try {
        await this.api.recordOutcome(item.leadId, item.body, item.key);
        await this.db.delete("outbox", item.key);
        result.sent += 1;
      } catch (error) {
        const tried: QueuedOutcome = { ...item, tries: item.tries + 1 };
        if (error instanceof ApiError && isFinalRefusal(error)) {
          tried.state = "rejected";
          tried.lastError = error.message;
          result.rejected += 1;
        } else {
          tried.lastError =
            error instanceof NetworkError
              ? "No connection"
              : error instanceof ApiError
                ? error.message
                : String(error);
          result.waiting += 1;
          reachable = !(error instanceof NetworkError);
        }
        await this.db.put("outbox", tried);
      }
      await this.changed();
    }
    return result;
  }
}
