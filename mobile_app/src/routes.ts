/** The app's screens as addresses under /m/, so back, reload and notifications work. */

export type Route =
  | { screen: "today" }
  | { screen: "lead"; leadId: string }
  | { screen: "talk"; leadId: string }
  | { screen: "settings" };

export function routeOf(location: Location): Route {
  const lead = new URLSearchParams(location.search).get("lead"); // a notification's link
  if (lead) return { screen: "lead", leadId: lead };
  const talk = /^\/m\/leads\/([^/]+)\/talk\/?$/.exec(location.pathname);
  if (talk?.[1]) return { screen: "talk", leadId: decodeURIComponent(talk[1]) };
  const match = /^\/m\/leads\/([^/]+)\/?$/.exec(location.pathname);
  if (match?.[1]) return { screen: "lead", leadId: decodeURIComponent(match[1]) };
  if (/^\/m\/settings\/?$/.test(location.pathname)) return { screen: "settings" };
  return { screen: "today" };
}

export function pathOf(route: Route): string {
  switch (route.screen) {
    case "lead":
      return `/m/leads/${encodeURIComponent(route.leadId)}`;
    case "talk":
      return `/m/leads/${encodeURIComponent(route.leadId)}/talk`;
    case "settings":
      return "/m/settings";
    case "today":
      return "/m/";
  }
}
