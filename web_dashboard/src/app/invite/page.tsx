"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { AuthCard } from "@/components/auth/auth-card";
import { InviteForm } from "@/components/auth/invite-form";
import { Alert } from "@/components/ui/card";

function Invite() {
  const router = useRouter();
  const token = useSearchParams().get("token");
  if (!token) {
    return (
      <AuthCard title="Set your password" description="This page opens from the invite link an admin sent you.">
        <Alert title="This link has no invite token">
          Open the whole link from your invite, or ask an admin for a new one.{" "}
          <Link href="/sign-in/" className="font-medium text-accent underline">
            Sign in instead
          </Link>
        </Alert>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Set your password" description="Choose the password you will sign in to Velox with.">
      <InviteForm token={token} onDone={() => router.replace("/")} />
    </AuthCard>
  );
}

export default function InvitePage() {
  return (
    <Suspense>
      <Invite />
    </Suspense>
  );
}
