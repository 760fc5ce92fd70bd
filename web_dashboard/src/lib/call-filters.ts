/**
 * The call list's filters as the page's URL keeps them (so a filtered view can be shared) and as
 * the API takes them (`GET /v1/convai/conversations` and its CSV export share one set).
 * Dates are days in the viewer's time zone in the URL, Unix seconds for the API.
 */
import values from "@/api/call-filter-values.json";
import type { operations } from "@/api/schema";

export type CallQuery = NonNullable<operations["list_conversations_v1_convai_conversations_get"]["parameters"]["query"]>;

/** The values each enumerated filter takes, as the API lists them (generated, checked). */
export const FILTER_VALUES: Readonly<Record<EnumFilter, readonly string[]>> = values;

export const ENUM_FILTERS = ["status", "direction", "channel", "outcome", "sentiment", "call_successful"] as const;
export type EnumFilter = (typeof ENUM_FILTERS)[number];
const TEXT_FILTERS = ["search", "agent_id", "campaign_id", "phone_number", "interrupted", "from", "to", "min_secs", "max_secs", "sort"] as const;
type TextFilter = (typeof TEXT_FILTERS)[number];

export type CallFilters = Partial<Record<EnumFilter | TextFilter, string>>;

export function filtersFromUrl(params: URLSearchParams): CallFilters {
  const filters: CallFilters = {};
  for (const key of [...ENUM_FILTERS, ...TEXT_FILTERS]) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  return filters;
}

export function filtersToUrl(filters: CallFilters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  return params.toString();
}

/** Midnight starting the day `YYYY-MM-DD` in the viewer's time zone, in Unix seconds. */
export function dayStartUnix(day: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const start = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Math.floor(start.getTime() / 1000);
}

function whole(text: string | undefined): number | undefined {
  if (!text || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The API's query for these filters: `to` includes its whole day. */
export function apiQuery(filters: CallFilters): CallQuery {
  const query: CallQuery = {};
  for (const key of ENUM_FILTERS) if (filters[key]) query[key] = [filters[key]];
  if (filters.search?.trim()) query.search = filters.search.trim();
  if (filters.agent_id) query.agent_id = filters.agent_id;
  if (filters.campaign_id) query.campaign_id = filters.campaign_id;
  if (filters.phone_number?.trim()) query.phone_number = filters.phone_number.trim();
  if (filters.interrupted === "true" || filters.interrupted === "false") query.interrupted = filters.interrupted === "true";
  const from = filters.from ? dayStartUnix(filters.from) : undefined;
  const to = filters.to ? dayStartUnix(filters.to) : undefined;
  if (from !== undefined) query.call_start_after_unix = from;
  if (to !== undefined) query.call_start_before_unix = to + 24 * 3600;
  const min = whole(filters.min_secs);
  const max = whole(filters.max_secs);
  if (min !== undefined) query.call_duration_min_secs = min;
  if (max !== undefined) query.call_duration_max_secs = max;
  if (filters.sort === "asc") query.sort_direction = "asc";
  return query;
}

/** The CSV export's URL for the same filters. */
export function exportUrl(filters: CallFilters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(apiQuery(filters))) {
    if (Array.isArray(value)) value.forEach((item) => params.append(key, String(item)));
    else if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const query = params.toString();
  return `/v1/convai/conversations/export${query ? `?${query}` : ""}`;
}

export function activeFilterCount(filters: CallFilters): number {
  return Object.entries(filters).filter(([key, value]) => key !== "sort" && Boolean(value)).length;
}

/** A value as people read it: `in-progress` → "In progress", `call_back` → "Call back". */
export function humanize(value: string): string {
  const words = value.replace(/[_-]+/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
