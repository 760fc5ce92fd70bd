"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { ME_KEY } from "@/lib/session";

export type SignedIn = Schemas["SignInResponse"];

/** Email and password against `POST /v1/auth/sign-in`; the API's refusal shown as it says it. */
export function SignInForm({ onSignedIn, initialEmail = "" }: { onSignedIn: (signed: SignedIn) => void; initialEmail?: string }) {
  const client = useQueryClient();
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState("");
  const signIn = useMutation({
    mutationFn: (body: { email: string; password: string }) => unwrap(api.POST("/v1/auth/sign-in", { body })),
    onSuccess: async (signed) => {
      await client.invalidateQueries({ queryKey: ME_KEY });
      onSignedIn(signed);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    signIn.mutate({ email: email.trim(), password });
  }

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {signIn.error ? (
        <Alert title="Could not sign in">{errorMessage(signIn.error)}</Alert>
      ) : null}
      <Field label="Email">
        <Input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus />
      </Field>
      <Field label="Password">
        <Input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </Field>
      <Button type="submit" className="w-full" busy={signIn.isPending} disabled={!email || !password}>
        Sign in
      </Button>
    </form>
  );
}
