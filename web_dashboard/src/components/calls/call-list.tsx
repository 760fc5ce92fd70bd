"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";

import type { Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Badge, Card, Skeleton, type BadgeTone } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/field";
import {
  activeFilterCount,
  apiQuery,
  exportUrl,
  filtersFromUrl,
  filtersToUrl,
  FILTER_VALUES,
  humanize,
  type CallFilters,
  type EnumFilter,
} from "@/lib/call-filters";
import { cn } from "@/lib/cn";
import { formatUnix } from "@/lib/format";

import { AGENT_NAMES_QUERY, callsQuery } from "./call-list-queries";

type Summary = Schemas["ConversationSummary"];

const ENUM_LABELS: Record<EnumFilter, { label: string; any: string }> = {
  status: { label: "Status", any: "Any status" },
  outcome: { label: "Outcome", any: "Any outcome" },
  sentiment: { label: "Sentiment", any: "Any sentiment" },
  call_successful: { label: "Success", any: "Any verdict" },
  direction: { label: "Direction", any: "Both directions" },
  channel: { label: "Channel", any: "Any channel" },
};

export function formatDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return minutes > 0 ? `${minutes}:${String(rest).padStart(2, "0")}` : `${rest}s`;
}

/**
 * Every call of the organization, newest first, with every filter and the text search of the
 * API, kept in the URL; the same filters export as CSV. Pages follow the API's keyset cursor,
 * which stays fast however many calls there are.
 */
export function CallList() {
  const router = useRouter();
  const params = useSearchParams();
  const [filters, setFilters] = useState<CallFilters>(() => filtersFromUrl(new URLSearchParams(params.toString())));
  const [searchText, setSearchText] = useState(filters.search ?? "");
  const [more, setMore] = useState(() => Boolean(filters.channel || filters.direction || filters.phone_number || filters.min_secs || filters.max_secs || filters.interrupted || filters.sentiment));

  useEffect(() => {
    const timer = setTimeout(() => setFilters((current) => (current.search ?? "") === searchText.trim() ? current : { ...current, search: searchText.trim() || undefined }), 350);
    return () => clearTimeout(timer);
  }, [searchText]);

  useEffect(() => {
    const query = filtersToUrl(filters);
    router.replace(query ? `/calls/?${query}` : "/calls/", { scroll: false });
  }, [filters, router]);

  const set = (key: keyof CallFilters, value: string) => setFilters((current) => ({ ...current, [key]: value || undefined }));
  const query = useMemo(() => apiQuery(filters), [filters]);

  const agents = useQuery(AGENT_NAMES_QUERY);
  const calls = useInfiniteQuery(callsQuery(query));
  const rows = calls.data?.pages.flatMap((page) => page.conversations) ?? [];
  const filtered = activeFilterCount(filters) > 0;

  return (
    <>
      <PageHeader
        title="Calls"
        description="Every conversation, phone and web, newest first."
        actions={
          <Button variant="secondary" asChild>
            <a href={exportUrl(filters)} download>
              <svg viewBox="0 0 20 20" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
                <path d="M10 3v10m0 0-4-4m4 4 4-4M4 15v2h12v-2" strokeLinecap="round" strokeLinejoin="round" />
              </svg>
              Export CSV
            </a>
          </Button>
        }
      />

      <Card className="mb-4 p-4">
        <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-[2fr_1fr_1fr_1fr_auto]">
          <div>
            <label htmlFor="call-search" className="sr-only">
              Search transcripts
            </label>
            <Input id="call-search" type="search" placeholder="Search transcripts and summaries" title='Words (all of them), "a phrase", or a prefix like refun*' value={searchText} onChange={(event) => setSearchText(event.target.value)} />
          </div>
          <FilterSelect label="Agent" value={filters.agent_id ?? ""} onChange={(value) => set("agent_id", value)}>
            <option value="">Any agent</option>
            {(agents.data?.agents ?? []).map((agent) => (
              <option key={agent.agent_id} value={agent.agent_id}>
                {agent.name}
              </option>
            ))}
          </FilterSelect>
          <EnumSelect name="status" filters={filters} onChange={set} />
          <EnumSelect name="outcome" filters={filters} onChange={set} />
          <Button type="button" variant="ghost" aria-expanded={more} aria-controls="more-filters" onClick={() => setMore(!more)}>
            {more ? "Fewer filters" : "More filters"}
          </Button>
        </div>
        {more ? (
          <div id="more-filters" className="mt-3 grid gap-3 border-t border-line pt-3 md:grid-cols-3 xl:grid-cols-6">
            <EnumSelect name="call_successful" filters={filters} onChange={set} />
            <EnumSelect name="sentiment" filters={filters} onChange={set} />
            <EnumSelect name="direction" filters={filters} onChange={set} />
            <EnumSelect name="channel" filters={filters} onChange={set} />
            <FilterSelect label="Interrupted" value={filters.interrupted ?? ""} onChange={(value) => set("interrupted", value)}>
              <option value="">Interrupted or not</option>
              <option value="true">Caller interrupted</option>
              <option value="false">Never interrupted</option>
            </FilterSelect>
            <FilterSelect label="Order" value={filters.sort ?? ""} onChange={(value) => set("sort", value)}>
              <option value="">Newest first</option>
              <option value="asc">Oldest first</option>
            </FilterSelect>
            <FilterInput label="Started on or after" type="date" value={filters.from ?? ""} onChange={(value) => set("from", value)} />
            <FilterInput label="Started on or before" type="date" value={filters.to ?? ""} onChange={(value) => set("to", value)} />
            <FilterInput label="At least (seconds)" type="number" value={filters.min_secs ?? ""} onChange={(value) => set("min_secs", value)} />
            <FilterInput label="At most (seconds)" type="number" value={filters.max_secs ?? ""} onChange={(value) => set("max_secs", value)} />
            <FilterInput label="Phone number" type="tel" placeholder="+15550001111" value={filters.phone_number ?? ""} onChange={(value) => set("phone_number", value)} className="md:col-span-2" />
          </div>
        ) : null}
        {filtered ? (
          <div className="mt-3 flex items-center gap-2 text-sm text-muted">
            <span>{activeFilterCount(filters)} filter{activeFilterCount(filters) === 1 ? "" : "s"} on</span>
            <button
              type="button"
              className="font-medium text-accent underline"
              onClick={() => {
                setSearchText("");
                setFilters({});
              }}
            >
              Clear filters
            </button>
          </div>
        ) : null}
      </Card>

      <Card className="overflow-x-auto" tabIndex={0} role="region" aria-label="Calls table">
        {calls.isPending ? (
          <TableSkeleton />
        ) : calls.error ? (
          <div className="p-6">
            <Alert title="The calls could not be loaded">{errorMessage(calls.error)}</Alert>
          </div>
        ) : rows.length === 0 ? (
          <div className="flex flex-col items-center px-6 py-16 text-center">
            <h2 className="text-base font-semibold text-ink">{filtered ? "No call matches these filters" : "No calls yet"}</h2>
            <p className="mt-1 max-w-md text-sm text-muted">
              {filtered
                ? "Widen the dates or clear a filter. Search matches whole words, a quoted phrase, or a prefix ending in *."
                : "Calls appear here as soon as they end: phone calls to your numbers, campaign dials, and web or app conversations."}
            </p>
          </div>
        ) : (
          <table className="w-full min-w-[44rem] text-left text-sm">
            <caption className="sr-only">Calls</caption>
            <thead className="border-b border-line bg-subtle/60 text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-4 py-3 font-medium">Started</th>
                <th scope="col" className="px-4 py-3 font-medium">Agent</th>
                <th scope="col" className="hidden px-4 py-3 font-medium 2xl:table-cell">Channel</th>
                <th scope="col" className="hidden px-4 py-3 font-medium lg:table-cell">From → to</th>
                <th scope="col" className="px-4 py-3 text-right font-medium">Duration</th>
                <th scope="col" className="px-4 py-3 font-medium">Status</th>
                <th scope="col" className="px-4 py-3 font-medium">Outcome</th>
                <th scope="col" className="hidden px-4 py-3 font-medium lg:table-cell">Sentiment</th>
                <th scope="col" className="px-4 py-3 font-medium">Success</th>
                <th scope="col" className="px-4 py-3 font-medium">
                  <span className="sr-only">Recording</span>
                  <RecordingIcon />
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((call) => (
                <CallRow key={call.conversation_id} call={call} />
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {calls.hasNextPage ? (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" busy={calls.isFetchingNextPage} onClick={() => void calls.fetchNextPage()}>
            Show more calls
          </Button>
        </div>
      ) : null}
    </>
  );
}

const STATUS_TONE: Record<string, BadgeTone> = { done: "success", failed: "danger", "in-progress": "accent" };
const VERDICT_TONE: Record<string, BadgeTone> = { success: "success", failure: "danger" };
const CHANNELS: Record<string, string> = { twilio: "Twilio", sip: "SIP", websocket: "Web/app" };

const SENTIMENT_TONE: Record<string, BadgeTone> = { positive: "success", negative: "danger", neutral: "neutral" };

export function callHref(conversationId: string): string {
  return `/calls/view/?id=${encodeURIComponent(conversationId)}`;
}

function RecordingIcon({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 20 20" className={cn("h-4 w-4", className)} fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
      <path d="M3 8v4m3.5-7v10M10 3v14m3.5-10v6M17 8v4" strokeLinecap="round" />
    </svg>
  );
}

/** The two ends stacked (the caller's number over the called one), read as "from → to". */
function Ends({ from, to }: { from: string; to: string }) {
  if (!from && !to) return <>—</>;
  return (
    <>
      <span className="block">{from || "—"}</span>
      <span className="block">→ {to || "—"}</span>
    </>
  );
}

function CallRow({ call }: { call: Summary }) {
  return (
    <tr className="hover:bg-subtle/50">
      <td className="max-w-[14rem] px-4 py-3 text-ink">
        <Link href={callHref(call.conversation_id)} className="group block rounded focus-visible:outline focus-visible:outline-2 focus-visible:outline-accent">
          <span className="font-medium group-hover:text-accent group-hover:underline">{formatUnix(call.start_time_unix_secs)}</span>
          <span className="block break-all font-mono text-xs text-muted">{call.conversation_id}</span>
        </Link>
      </td>
      <td className="px-4 py-3 text-ink">
        {call.agent_name || <span className="text-muted">Deleted agent</span>}
        <span className="block text-xs text-muted">
          {humanize(call.direction)}
          <span className="2xl:hidden"> · {CHANNELS[call.channel] ?? humanize(call.channel)}</span>
        </span>
      </td>
      <td className="hidden px-4 py-3 text-muted 2xl:table-cell">{CHANNELS[call.channel] ?? humanize(call.channel)}</td>
      <td className="hidden whitespace-nowrap px-4 py-3 font-mono text-xs text-muted lg:table-cell">
        <Ends from={call.from_number ?? ""} to={call.to_number ?? ""} />
      </td>
      <td className="whitespace-nowrap px-4 py-3 text-right tabular-nums text-ink">{formatDuration(call.call_duration_secs)}</td>
      <td className="px-4 py-3">
        <Badge tone={STATUS_TONE[call.status] ?? "neutral"}>{humanize(call.status)}</Badge>
        {call.termination_reason ? <span className="mt-0.5 block text-xs text-muted">{humanize(call.termination_reason)}</span> : null}
      </td>
      <td className="px-4 py-3 text-ink">{call.outcome ? humanize(call.outcome) : <span className="text-muted">—</span>}</td>
      <td className="hidden px-4 py-3 lg:table-cell">
        {call.sentiment ? <Badge tone={SENTIMENT_TONE[call.sentiment] ?? "neutral"}>{humanize(call.sentiment)}</Badge> : <span className="text-muted">—</span>}
      </td>
      <td className="px-4 py-3">
        <Badge tone={VERDICT_TONE[call.call_successful] ?? "neutral"}>{humanize(call.call_successful)}</Badge>
      </td>
      <td className="px-4 py-3 text-accent">
        {call.has_audio ? (
          <span title="Recorded">
            <RecordingIcon />
            <span className="sr-only">Recorded</span>
          </span>
        ) : (
          <span className="sr-only">Not recorded</span>
        )}
      </td>
    </tr>
  );
}

function FilterSelect({ label, value, onChange, children }: { label: string; value: string; onChange: (value: string) => void; children: React.ReactNode }) {
  return (
    <label className="block">
      <span className="sr-only">{label}</span>
      <Select value={value} onChange={(event) => onChange(event.target.value)} className={cn(value && "border-accent/60")}>
        {children}
      </Select>
    </label>
  );
}

function EnumSelect({ name, filters, onChange }: { name: EnumFilter; filters: CallFilters; onChange: (key: EnumFilter, value: string) => void }) {
  const { label, any } = ENUM_LABELS[name];
  return (
    <FilterSelect label={label} value={filters[name] ?? ""} onChange={(value) => onChange(name, value)}>
      <option value="">{any}</option>
      {FILTER_VALUES[name].map((value) => (
        <option key={value} value={value}>
          {name === "channel" ? (CHANNELS[value] ?? humanize(value)) : humanize(value)}
        </option>
      ))}
    </FilterSelect>
  );
}

function FilterInput({
  label,
  type,
  value,
  onChange,
  placeholder,
  className,
}: {
  label: string;
  type: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  className?: string;
}) {
  return (
    <label className={cn("block space-y-1", className)}>
      <span className="text-xs font-medium text-muted">{label}</span>
      <Input type={type} value={value} placeholder={placeholder} min={type === "number" ? 0 : undefined} onChange={(event) => onChange(event.target.value)} />
    </label>
  );
}

function TableSkeleton() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading calls" className="divide-y divide-line">
      {Array.from({ length: 8 }, (_, index) => (
        <div key={index} className="flex items-center gap-6 px-4 py-4">
          <Skeleton className="h-4 w-40" />
          <Skeleton className="h-4 w-28" />
          <Skeleton className="h-4 w-16" />
          <Skeleton className="ml-auto h-4 w-12" />
          <Skeleton className="h-5 w-16 rounded-full" />
          <Skeleton className="h-5 w-16 rounded-full" />
        </div>
      ))}
    </div>
  );
}
