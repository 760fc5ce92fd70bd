"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

import { AppShell, PageSkeleton } from "@/components/shell/app-shell";
import { homeFor } from "@/lib/navigation";
import { useMe } from "@/lib/session";

/** `/`: a signed-in person goes to their first page; anyone else to the sign-in page (AppShell). */
export default function Home() {
  const me = useMe();
  const router = useRouter();
  useEffect(() => {
    if (me.data) router.replace(homeFor(me.data.permissions));
  }, [me.data, router]);
  return <AppShell>{() => <PageSkeleton />}</AppShell>;
}
