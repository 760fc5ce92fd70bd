"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "@/api/client";
import { ApiError, errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { ME_KEY } from "@/lib/session";

const MIN_LENGTH = 10; // app/people/passwords.py; the API has the last word.

/**
 * Sets the password an invite link is for (`POST /v1/auth/invite/accept`), then signs in with
 * it so the person lands in the dashboard.
 */
export function InviteForm({ token, onDone }: { token: string; onDone: () => void }) {
  const client = useQueryClient();
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const accept = useMutation({
    mutationFn: async (chosen: string) => {
      const user = await unwrap(api.POST("/v1/auth/invite/accept", { body: { token, password: chosen } }));
      await unwrap(api.POST("/v1/auth/sign-in", { body: { email: user.email, password: chosen } }));
      return user;
    },
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ME_KEY });
      onDone();
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (password !== repeat) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    accept.mutate(password);
  }

  const error = accept.error;
  const weak = error instanceof ApiError && error.code === "weak_password";
  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {error && !weak ? <Alert title="The password was not set">{errorMessage(error)}</Alert> : null}
      <Field
        label="New password"
        hint={`At least ${MIN_LENGTH} characters. A long phrase is easier to remember than symbols.`}
        error={weak ? errorMessage(error) : undefined}
      >
        <Input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
      </Field>
      <Field label="Repeat password" error={mismatch ? "The two passwords differ." : undefined}>
        <Input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </Field>
      <Button type="submit" className="w-full" busy={accept.isPending} disabled={!password || !repeat}>
        Set password
      </Button>
    </form>
  );
}
