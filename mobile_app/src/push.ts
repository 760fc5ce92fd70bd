/** Notifications for call backs falling due: this device subscribed to Web Push with Velox's
 * VAPID key, the subscription handed to the server (and taken back on sign-out). */

import { ApiError, type ApiClient } from "./api";

export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(base64url: string): Uint8Array {
  const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration("/m/");
  return registration ? registration.pushManager.getSubscription() : null;
}

/** Ask for permission, subscribe, and tell Velox; throws an Error whose message is for people. */
export async function enablePush(api: ApiClient): Promise<void> {
  if (!pushSupported()) throw new Error("This browser cannot receive notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new Error(
      permission === "denied"
        ? "Notifications are blocked for this app. Allow them in the browser's site settings."
        : "Notifications were not allowed.",
    );
  }
  const registration = await navigator.serviceWorker.ready;
  const key = await api.pushKey();
  let subscription: PushSubscription;
  try {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`This browser's push service refused the subscription (${why}).`);
  }
  await api.addPushSubscription(subscription.toJSON());
}

/** Stop this device's notifications: the server forgets it, the browser unsubscribes. */
export async function disablePush(api: ApiClient): Promise<void> {
  const subscription = await currentSubscription();
  if (!subscription) return;
  try {
    await api.removePushSubscription(subscription.endpoint);
  } catch (error) {
    if (!(error instanceof ApiError && error.httpStatus === 404)) throw error;
  }
  await subscription.unsubscribe();
}
