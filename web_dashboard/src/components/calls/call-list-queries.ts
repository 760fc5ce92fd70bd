import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/api/client";
import type { CallQuery } from "@/lib/call-filters";

type Page = Schemas["ConversationsPage"];
export const PAGE_SIZE = 50;

/** The calls page's reads, shared by the list and by its route, which starts them beside
 * `/v1/me` (they do not depend on who is asking). */
export function callsQuery(query: CallQuery) {
  return infiniteQueryOptions({
    queryKey: ["calls", "list", query],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/v1/convai/conversations", { params: { query: { ...query, page_size: PAGE_SIZE, cursor: pageParam ?? undefined } } })),
    getNextPageParam: (last: Page) => (last.has_more ? last.next_cursor : null),
  });
}

/** The agents' names for the agent filter and each row. */
export const AGENT_NAMES_QUERY = queryOptions({
  queryKey: ["agents", "names"],
  queryFn: () => unwrap(api.GET("/v1/convai/agents", { params: { query: { page_size: 100 } } })),
  staleTime: 60_000,
});
