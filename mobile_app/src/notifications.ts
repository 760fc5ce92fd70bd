/** What a push message from Velox becomes on screen; shared by the service worker and tests. */

/** The Cache Storage cache the service worker keeps the lead lists in. */
export const LIST_CACHE = "velox-lists";

export interface ShownNotification {
  title: string;
  options: NotificationOptions & { data: { url: string; leadId: string | null } };
}

/** A push payload (JSON: `title`, `body`, `lead_id`, …) as a notification that opens the lead
 * (`/m/?lead=<id>`). A payload that is not JSON is shown as its text. */
export function pushNotification(payload: string): ShownNotification {
  let title = "Velox";
  let body = payload;
  let leadId: string | null = null;
  let tag: string | undefined;
  try {
    const parsed: unknown = JSON.parse(payload);
    if (parsed && typeof parsed === "object") {
      const p = parsed as Record<string, unknown>;
      if (typeof p.title === "string" && p.title) title = p.title;
      body = typeof p.body === "string" ? p.body : "";
      if (typeof p.lead_id === "string" && p.lead_id) leadId = p.lead_id;
      if (typeof p.callback_id === "string") tag = `callback-${p.callback_id}`;
    }
  } catch {
    // plain text: shown as it is
  }
  const url = leadId ? `/m/?lead=${encodeURIComponent(leadId)}` : "/m/";
  const options: ShownNotification["options"] = {
    body,
    icon: "/m/icons/icon-192.png",
    badge: "/m/icons/icon-192.png",
    data: { url, leadId },
  };
  if (tag) options.tag = tag;
  return { title, options };
}
