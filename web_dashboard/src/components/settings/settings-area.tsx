"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";

import { roleName } from "@/components/shell/app-shell";
import { PageHeader } from "@/components/shell/app-shell";
import { Alert } from "@/components/ui/card";
import { cn } from "@/lib/cn";
import type { Me } from "@/lib/session";
import { mayChange, settingsHref, visibleSections, type SettingsSection } from "@/lib/settings-sections";

import { ApiKeys } from "./api-keys";
import { AuditLog } from "./audit-log";
import { DoNotCall } from "./do-not-call";
import { PhoneNumbers } from "./phone-numbers";
import { ProviderKeys } from "./provider-keys";
import { Users } from "./users";
import { WebhookDeliveries } from "./webhook-deliveries";
import { Webhooks } from "./webhooks";

/**
 * /settings/: a side list of the sections the person's role may see, the chosen one
 * (`?section=`, the first by default) beside it; `&id=` opens one webhook's delivery log.
 */
export function SettingsArea({ me }: { me: Me }) {
  const params = useSearchParams();
  const sections = visibleSections(me.permissions);
  if (sections.length === 0) {
    return (
      <Alert title="Not available to your role" tone="info">
        A {roleName(me.role).toLowerCase()} has no settings to see or change. Ask an admin if you need one.{" "}
        <Link className="font-medium text-accent underline" href="/">
          Go to your home page
        </Link>
      </Alert>
    );
  }
  const asked = params.get("section");
  const current = sections.find((section) => section.id === asked);
  return (
    <>
      <PageHeader title="Settings" description={`For ${me.organization_name}.`} />
      <div className="flex flex-col gap-6 lg:flex-row lg:items-start">
        <nav aria-label="Settings sections" className="lg:w-52 lg:shrink-0">
          <ul className="flex flex-wrap gap-1 lg:flex-col">
            {sections.map((section) => {
              const active = section.id === (current ?? sections[0])?.id;
              return (
                <li key={section.id} className="shrink-0">
                  <Link
                    href={settingsHref(section.id)}
                    aria-current={active ? "page" : undefined}
                    className={cn(
                      "block rounded-md px-3 py-2 text-sm font-medium transition-colors",
                      active ? "bg-surface text-ink shadow-sm ring-1 ring-line" : "text-muted hover:bg-subtle hover:text-ink",
                    )}
                  >
                    {section.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="min-w-0 flex-1">
          {asked && !current ? (
            <Alert title="No such section here" tone="info" className="mb-4">
              “{asked}” is not a settings section your role may open; here is the first one you may.
            </Alert>
          ) : null}
          <Section section={current ?? sections[0]!} me={me} webhookId={params.get("id")} />
        </div>
      </div>
    </>
  );
}

function Section({ section, me, webhookId }: { section: SettingsSection; me: Me; webhookId: string | null }) {
  const canWrite = mayChange(section, me.permissions);
  switch (section.id) {
    case "numbers":
      return <PhoneNumbers canWrite={canWrite} />;
    case "webhooks":
      return webhookId ? <WebhookDeliveries key={webhookId} webhookId={webhookId} /> : <Webhooks canWrite={canWrite} />;
    case "api-keys":
      return <ApiKeys />;
    case "provider-keys":
      return <ProviderKeys />;
    case "do-not-call":
      return <DoNotCall canWrite={canWrite} />;
    case "users":
      return <Users myEmail={me.email ?? null} />;
    case "audit":
      return <AuditLog />;
  }
}
