"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { Suspense } from "react";

import { AuthCard } from "@/components/auth/auth-card";
import { SignInForm } from "@/components/auth/sign-in-form";
import { safeNext } from "@/lib/navigation";

function SignIn() {
  const router = useRouter();
  const next = safeNext(useSearchParams().get("next"));
  return (
    <AuthCard title="Sign in to Velox" description="Use the email address your invite was sent to.">
      <SignInForm onSignedIn={() => router.replace(next ?? "/")} />
    </AuthCard>
  );
}

export default function SignInPage() {
  return (
    <Suspense>
      <SignIn />
    </Suspense>
  );
}
