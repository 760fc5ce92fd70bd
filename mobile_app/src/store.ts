/** What the app keeps on the phone (IndexedDB): who is signed in, and the outcomes waiting to be
 * sent. Both survive the app being closed and the phone restarting. */

import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { OutcomeBody } from "./api";

export const DATABASE_NAME = "velox-field";

export interface Account {
  token: string;
  email: string;
  role: string;
  expiresAtUnixSecs: number;
}

/** An outcome recorded on the phone, sent (again) until the server has stored it. */
export interface QueuedOutcome {
  /** The Idempotency-Key: the server stores a write sent twice with it once. */
  key: string;
  leadId: string;
  leadName: string;
  body: OutcomeBody;
  queuedAtMs: number;
  tries: number;
  /** waiting: to send; rejected: the server refused it (kept, with why, until discarded). */
  state: "waiting" | "rejected";
  lastError: string | null;
}

interface FieldSchema extends DBSchema {
  account: { key: "current"; value: Account };
  outbox: { key: string; value: QueuedOutcome; indexes: { byQueuedAt: number } };
  settings: { key: string; value: string };
}

export type FieldDatabase = IDBPDatabase<FieldSchema>;

export function openFieldDatabase(name = DATABASE_NAME): Promise<FieldDatabase> {
  return openDB<FieldSchema>(name, 1, {
    upgrade(db) {
      db.createObjectStore("account");
      const outbox = db.createObjectStore("outbox", { keyPath: "key" });
      outbox.createIndex("byQueuedAt", "queuedAtMs");
      db.createObjectStore("settings");
    },
  });
}

export async function loadAccount(db: FieldDatabase): Promise<Account | null> {
  return (await db.get("account", "current")) ?? null;
}

export async function saveAccount(db: FieldDatabase, account: Account): Promise<void> {
  await db.put("account", account, "current");
}

export async function getSetting(db: FieldDatabase, key: string): Promise<string | null> {
  return (await db.get("settings", key)) ?? null;
}

export async function putSetting(db: FieldDatabase, key: string, value: string | null): Promise<void> {
  if (value === null) await db.delete("settings", key);
  else await db.put("settings", value, key);
}

/** Everything of this person's on the phone gone: the token, queued outcomes, settings. */
export async function forgetEverything(db: FieldDatabase): Promise<void> {
  const tx = db.transaction(["account", "outbox", "settings"], "readwrite");
  await Promise.all([
    tx.objectStore("account").clear(),
    tx.objectStore("outbox").clear(),
    tx.objectStore("settings").clear(),
    tx.done,
  ]);
}
