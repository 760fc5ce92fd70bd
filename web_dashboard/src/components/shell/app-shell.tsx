"use client";

import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";

import { ApiError, errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert, Skeleton } from "@/components/ui/card";
import { cn } from "@/lib/cn";
import { visibleNav } from "@/lib/navigation";
import { may, useMe, useSignOut, type Me } from "@/lib/session";

import { Logo } from "./logo";
import { ThemeToggle } from "./theme-toggle";

const ROLE_NAMES: Record<string, string> = {
  admin: "Admin",
  manager: "Manager",
  support: "Support",
  field_agent: "Field agent",
};

export function roleName(role: string): string {
  return ROLE_NAMES[role] ?? role;
}

/**
 * The signed-in frame around every page: navigation for what the role allows, the account
 * menu with sign-out. Nobody signed in: off to the sign-in page, coming back here after.
 * `permission`: the page's own; without it the page says so instead of failing on every call.
 */
export function AppShell({ permission, children }: { permission?: string; children: (me: Me) => ReactNode }) {
  const me = useMe();
  const router = useRouter();
  const pathname = usePathname();
  const signedOut = me.error instanceof ApiError && me.error.status === 401;

  useEffect(() => {
    if (signedOut) {
      const here = `${window.location.pathname}${window.location.search}`;
      router.replace(`/sign-in/?next=${encodeURIComponent(here)}`);
    }
  }, [signedOut, router]);

  return (
    <div className="flex min-h-screen flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-3 focus:z-50 focus:rounded-md focus:bg-surface focus:px-3 focus:py-2">
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-line bg-surface">
        {/* Below 1024 px the links take a row of their own, scrolling sideways if they must:
            the page itself never does. */}
        <div className="mx-auto flex min-h-14 max-w-7xl flex-wrap items-center gap-x-6 gap-y-1 px-4 py-2 sm:px-6 lg:flex-nowrap lg:py-0">
          <Link href="/" aria-label="Velox home">
            <Logo />
          </Link>
          <nav aria-label="Main" className="order-last -mx-1 flex w-full items-center gap-1 overflow-x-auto px-1 lg:order-none lg:mx-0 lg:w-auto lg:overflow-visible lg:px-0">
            {me.data
              ? visibleNav(me.data.permissions).map((item) => {
                  const active = pathname.startsWith(item.href.replace(/\/$/, ""));
                  return (
                    <Link
                      key={item.href}
                      href={item.href}
                      aria-current={active ? "page" : undefined}
                      className={cn(
                        "shrink-0 rounded-md px-3 py-1.5 text-sm font-medium transition-colors",
                        active ? "bg-subtle text-ink" : "text-muted hover:bg-subtle hover:text-ink",
                      )}
                    >
                      {item.label}
                    </Link>
                  );
                })
              : null}
          </nav>
          <div className="ml-auto flex items-center gap-1">
            <ThemeToggle />
            {me.data ? <AccountMenu me={me.data} /> : <Skeleton className="h-8 w-8 rounded-full" />}
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto w-full max-w-7xl flex-1 px-4 py-8 sm:px-6">
        {me.data ? (
          permission && !may(me.data, permission) ? (
            <Alert title="Not available to your role" tone="info">
              A {roleName(me.data.role).toLowerCase()} cannot open this page. Ask an admin if you need it.{" "}
              <Link className="font-medium text-accent underline" href="/">
                Go to your home page
              </Link>
            </Alert>
          ) : (
            children(me.data)
          )
        ) : me.error && !signedOut ? (
          <Alert title="Cannot load your account">
            {errorMessage(me.error)}{" "}
            <button type="button" className="font-medium text-accent underline" onClick={() => void me.refetch()}>
              Try again
            </button>
          </Alert>
        ) : (
          <PageSkeleton />
        )}
      </main>
    </div>
  );
}

function AccountMenu({ me }: { me: Me }) {
  const signOut = useSignOut();
  const router = useRouter();
  const who = me.email ?? me.api_key_name ?? "Account";
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger asChild>
        <button type="button" className="inline-flex h-9 items-center gap-2 rounded-md pl-1 pr-2 text-sm text-ink hover:bg-subtle">
          <span aria-hidden="true" className="inline-flex h-7 w-7 items-center justify-center rounded-full bg-accent/15 text-xs font-semibold uppercase text-accent">
            {who.slice(0, 1)}
          </span>
          <span className="sr-only">Account menu: </span>
          <span className="hidden max-w-48 truncate lg:inline">{who}</span>
        </button>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content align="end" sideOffset={6} className="z-50 min-w-60 rounded-lg border border-line bg-surface p-1 shadow-lg">
          <div className="px-3 py-2">
            <p className="truncate text-sm font-medium text-ink">{who}</p>
            <p className="text-xs text-muted">
              {roleName(me.role)} · {me.organization_name}
            </p>
          </div>
          <DropdownMenu.Separator className="my-1 h-px bg-line" />
          <DropdownMenu.Item asChild className="block cursor-pointer rounded-md px-3 py-2 text-sm text-ink outline-none data-[highlighted]:bg-subtle">
            <Link href="/account/">Your account</Link>
          </DropdownMenu.Item>
          <DropdownMenu.Item
            className="cursor-pointer rounded-md px-3 py-2 text-sm text-ink outline-none data-[highlighted]:bg-subtle"
            onSelect={() => {
              signOut.mutate(undefined, { onSettled: () => router.replace("/sign-in/") });
            }}
          >
            Sign out
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}

export function PageSkeleton() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading" className="space-y-6">
      <Skeleton className="h-8 w-56" />
      <Skeleton className="h-4 w-96 max-w-full" />
      <div className="space-y-3 pt-4">
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
      </div>
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight text-ink">{title}</h1>
        {description ? <p className="mt-1 text-sm text-muted">{description}</p> : null}
      </div>
      {actions ? <div className="flex items-center gap-2">{actions}</div> : null}
    </div>
  );
}

export { Button };
