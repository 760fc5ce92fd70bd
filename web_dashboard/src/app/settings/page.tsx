"use client";

import { Suspense } from "react";

import { SettingsArea } from "@/components/settings/settings-area";
import { AppShell } from "@/components/shell/app-shell";

export default function SettingsPage() {
  return <AppShell>{(me) => <Suspense><SettingsArea me={me} /></Suspense>}</AppShell>;
}
