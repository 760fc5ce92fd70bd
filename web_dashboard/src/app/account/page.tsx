"use client";

import { AppShell, PageHeader, roleName } from "@/components/shell/app-shell";
import { Badge, Card } from "@/components/ui/card";

export default function AccountPage() {
  return (
    <AppShell>
      {(me) => (
        <>
          <PageHeader title="Your account" description="Who you are signed in as, and what your role lets you do." />
          <Card className="max-w-2xl">
            <dl className="divide-y divide-line">
              <Row term="Email">{me.email ?? "—"}</Row>
              <Row term="Role">{roleName(me.role)}</Row>
              <Row term="Organization">{me.organization_name}</Row>
              <Row term="Permissions">
                <ul className="flex flex-wrap gap-1.5" aria-label="Permissions">
                  {me.permissions.map((permission) => (
                    <li key={permission}>
                      <Badge className="font-mono">{permission}</Badge>
                    </li>
                  ))}
                </ul>
              </Row>
            </dl>
          </Card>
        </>
      )}
    </AppShell>
  );
}

function Row({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="grid gap-1 px-6 py-4 sm:grid-cols-[10rem_1fr] sm:gap-6">
      <dt className="text-sm font-medium text-muted">{term}</dt>
      <dd className="text-sm text-ink">{children}</dd>
    </div>
  );
}
