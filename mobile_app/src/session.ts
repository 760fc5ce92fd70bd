/** Signing in and out on this phone. */

import { ApiClient, ApiError } from "./api";
import { LIST_CACHE } from "./notifications";
import { disablePush } from "./push";
import { forgetEverything, saveAccount, type Account, type FieldDatabase } from "./store";

/** Someone who signed in but is not a field agent: this app is not for them. */
export class NotAFieldAgentError extends Error {
  constructor(readonly role: string) {
    super(
      `This app is for field agents. Your account's role is ${role}: sign in to the Velox dashboard instead.`,
    );
    this.name = "NotAFieldAgentError";
  }
}

export async function signIn(db: FieldDatabase, email: string, password: string): Promise<Account> {
  const anonymous = new ApiClient(() => null);
  const signed = await anonymous.signIn(email.trim(), password);
  if (signed.user.role !== "field_agent") {
    // End the session just made: it is of no use here.
    await new ApiClient(() => signed.token).signOut().catch(() => undefined);
    throw new NotAFieldAgentError(signed.user.role);
  }
  const account: Account = {
    token: signed.token,
    email: signed.user.email,
    role: signed.user.role,
    expiresAtUnixSecs: signed.expires_at_unix_secs,
  };
  await saveAccount(db, account);
  return account;
}

/** Forget everything of this person's on the phone: the push subscription (on the server and in
 * the browser), the session on the server, the token and queued outcomes in IndexedDB, and the
 * cached lead lists. Each step is tried even when an earlier one fails (offline, say). */
export async function signOut(db: FieldDatabase, api: ApiClient): Promise<void> {
  await disablePush(api).catch((error: unknown) => console.warn("push unsubscribe failed", error));
  await api.signOut().catch((error: unknown) => {
    if (!(error instanceof ApiError && error.httpStatus === 401)) console.warn("sign-out failed", error);
  });
  await forgetEverything(db);
  if ("caches" in globalThis) {
    // The app shell's precache holds no one's data and keeps the app opening offline.
    for (const name of await caches.keys()) {
      if (name === LIST_CACHE || !name.startsWith("workbox-precache")) await caches.delete(name);
    }
  }
}
