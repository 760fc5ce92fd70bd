"use client";

import { infiniteQueryOptions, useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { PageHeader } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Alert, Badge, Card, Skeleton } from "@/components/ui/card";
import { Input } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";

import { CreateAgentDialog } from "./create-agent-dialog";

type AgentsPage = Schemas["AgentsPage"];
const PAGE_SIZE = 30;

/** The agents whose name has `term` (all: ""), a page at a time; also started by the route. */
export function agentsQuery(term: string) {
  return infiniteQueryOptions({
    queryKey: ["agents", "list", term],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/convai/agents", {
          params: { query: { page_size: PAGE_SIZE, search: term || undefined, cursor: pageParam ?? undefined } },
        }),
      ),
    getNextPageParam: (last: AgentsPage) => (last.has_more ? last.next_cursor : null),
  });
}

function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/** The organization's agents, newest first, searched by name (the search kept in the URL). */
export function AgentList({ canWrite }: { canWrite: boolean }) {
  const router = useRouter();
  const params = useSearchParams();
  const [search, setSearch] = useState(params.get("search") ?? "");
  const [creating, setCreating] = useState(false);
  const term = useDebounced(search.trim(), 250);

  useEffect(() => {
    const url = term ? `/agents/?search=${encodeURIComponent(term)}` : "/agents/";
    router.replace(url, { scroll: false });
  }, [term, router]);

  const agents = useInfiniteQuery(agentsQuery(term));
  const rows = agents.data?.pages.flatMap((page) => page.agents) ?? [];

  return (
    <>
      <PageHeader
        title="Agents"
        description="The voice agents that answer and place your calls."
        actions={
          canWrite ? (
            <Button onClick={() => setCreating(true)}>
              <svg viewBox="0 0 20 20" className="h-4 w-4" fill="currentColor" aria-hidden="true">
                <path d="M10 4a1 1 0 0 1 1 1v4h4a1 1 0 1 1 0 2h-4v4a1 1 0 1 1-2 0v-4H5a1 1 0 1 1 0-2h4V5a1 1 0 0 1 1-1Z" />
              </svg>
              New agent
            </Button>
          ) : null
        }
      />
      <div className="mb-4 max-w-sm">
        <label htmlFor="agent-search" className="sr-only">
          Search agents
        </label>
        <Input
          id="agent-search"
          type="search"
          placeholder="Search by name…"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <Card className="overflow-hidden">
        {agents.isPending ? (
          <ListSkeleton />
        ) : agents.error ? (
          <div className="p-6">
            <Alert title="The agents could not be loaded">
              {errorMessage(agents.error)}{" "}
              <button type="button" className="font-medium text-accent underline" onClick={() => void agents.refetch()}>
                Try again
              </button>
            </Alert>
          </div>
        ) : rows.length === 0 ? (
          <EmptyState term={term} canWrite={canWrite} onCreate={() => setCreating(true)} />
        ) : (
          <table className="w-full text-left text-sm">
            <thead className="border-b border-line bg-subtle/60 text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-5 py-3 font-medium">Name</th>
                <th scope="col" className="hidden px-5 py-3 font-medium md:table-cell">Voice</th>
                <th scope="col" className="hidden px-5 py-3 font-medium lg:table-cell">Tags</th>
                <th scope="col" className="px-5 py-3 font-medium">Updated</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((agent) => (
                <tr key={agent.agent_id} className="group hover:bg-subtle/50">
                  <td className="px-5 py-3.5">
                    <Link href={`/agents/edit/?id=${encodeURIComponent(agent.agent_id)}`} className="font-medium text-ink group-hover:text-accent">
                      {agent.name}
                    </Link>
                    <p className="mt-0.5 font-mono text-xs text-muted">{agent.agent_id}</p>
                  </td>
                  <td className="hidden px-5 py-3.5 text-muted md:table-cell">{agent.voice_id}</td>
                  <td className="hidden px-5 py-3.5 lg:table-cell">
                    <div className="flex flex-wrap gap-1">
                      {agent.tags.length > 0 ? agent.tags.map((tag) => <Badge key={tag}>{tag}</Badge>) : <span className="text-muted">—</span>}
                    </div>
                  </td>
                  <td className="whitespace-nowrap px-5 py-3.5 text-muted">{formatUnix(agent.updated_at_unix_secs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {agents.hasNextPage ? (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" busy={agents.isFetchingNextPage} onClick={() => void agents.fetchNextPage()}>
            Show more agents
          </Button>
        </div>
      ) : null}
      <CreateAgentDialog
        open={creating}
        onOpenChange={setCreating}
        onCreated={(agentId) => router.push(`/agents/edit/?id=${encodeURIComponent(agentId)}`)}
      />
    </>
  );
}

function ListSkeleton() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading agents" className="divide-y divide-line">
      {Array.from({ length: 5 }, (_, index) => (
        <div key={index} className="flex items-center gap-6 px-5 py-4">
          <div className="flex-1 space-y-2">
            <Skeleton className="h-4 w-48" />
            <Skeleton className="h-3 w-64" />
          </div>
          <Skeleton className="hidden h-4 w-24 md:block" />
          <Skeleton className="h-4 w-32" />
        </div>
      ))}
    </div>
  );
}

function EmptyState({ term, canWrite, onCreate }: { term: string; canWrite: boolean; onCreate: () => void }) {
  return (
    <div className="flex flex-col items-center px-6 py-16 text-center">
      <div aria-hidden="true" className="mb-4 flex h-12 w-12 items-center justify-center rounded-full bg-accent/10 text-accent">
        <svg viewBox="0 0 24 24" className="h-6 w-6" fill="none" stroke="currentColor" strokeWidth="1.8">
          <path d="M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3Z" />
          <path d="M19 11a7 7 0 0 1-14 0M12 18v3" strokeLinecap="round" />
        </svg>
      </div>
      {term ? (
        <>
          <h2 className="text-base font-semibold text-ink">No agent matches “{term}”</h2>
          <p className="mt-1 max-w-sm text-sm text-muted">Search looks for part of an agent’s name. Try a shorter word.</p>
        </>
      ) : (
        <>
          <h2 className="text-base font-semibold text-ink">No agents yet</h2>
          <p className="mt-1 max-w-sm text-sm text-muted">
            An agent is a voice persona: its prompt, voice, providers and how it takes turns. Calls and campaigns need one.
          </p>
          {canWrite ? (
            <Button className="mt-5" onClick={onCreate}>
              Create your first agent
            </Button>
          ) : (
            <p className="mt-3 text-sm text-muted">A manager or an admin can create one.</p>
          )}
        </>
      )}
    </div>
  );
}
