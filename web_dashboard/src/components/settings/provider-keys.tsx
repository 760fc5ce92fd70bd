"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap, type Schemas } from "@/api/client";
import { Button } from "@/components/ui/button";
import { Badge, Card } from "@/components/ui/card";
import { Dialog, DialogClose } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { formatUnix } from "@/lib/format";

import { ConfirmRemoval, fieldError, FormError, LoadError, LoadingRows, SectionHeader, useRemoval } from "./parts";

type ProviderKey = Schemas["ProviderKeyStatus"];
const KEYS = ["settings", "provider-keys"] as const;

const PROVIDER_NAMES: Record<string, string> = {
  deepgram: "Deepgram (speech to text)",
  groq: "Groq (language model)",
  openai: "OpenAI (language model)",
  elevenlabs: "ElevenLabs (text to speech)",
  cartesia: "Cartesia (text to speech)",
};

/** What an organization without its own key gets: OpenAI falls back to the server's key
 * (VELOX_OPENAI_API_KEY) when it has one; the others cannot be used. */
function noKey(provider: string): string {
  return provider === "openai"
    ? "No key of your own: agents use the server's key, if it has one."
    : "Agents cannot use it until a key is set.";
}

export function providerName(provider: string): string {
  return PROVIDER_NAMES[provider] ?? provider;
}

/** Keys for cloud providers: set, replaced or cleared; never shown, only whether one is set. */
export function ProviderKeys() {
  const [setting, setSetting] = useState<string | null>(null);
  const keys = useQuery({ queryKey: KEYS, queryFn: () => unwrap(api.GET("/v1/provider-keys")) });
  const clear = useRemoval<string>({
    remove: (provider) => unwrap(api.DELETE("/v1/provider-keys/{provider}", { params: { path: { provider } } })),
    invalidates: KEYS,
  });

  return (
    <section aria-labelledby="settings-title">
      <SectionHeader
        title="Provider keys"
        description="Agents that use a cloud provider call it with your organization's key. Keys are stored encrypted and never shown again, here or anywhere: you can only replace or clear one."
      />
      {keys.isPending ? (
        <LoadingRows what="provider keys" rows={5} />
      ) : keys.error ? (
        <LoadError what="provider keys" error={keys.error} retry={() => void keys.refetch()} />
      ) : (
        <Card>
          <ul className="divide-y divide-line">
            {keys.data.provider_keys.map((key: ProviderKey) => (
              <li key={key.provider} className="flex flex-wrap items-center gap-4 px-5 py-4">
                <div className="min-w-0 flex-1">
                  <p className="font-medium text-ink">{providerName(key.provider)}</p>
                  <p className="mt-0.5 text-xs text-muted">
                    {key.is_set && key.updated_at_unix_secs ? `Set ${formatUnix(key.updated_at_unix_secs)}` : noKey(key.provider)}
                  </p>
                </div>
                <Badge tone={key.is_set ? "success" : "neutral"}>{key.is_set ? "Key set" : "No key"}</Badge>
                <div className="flex gap-2">
                  <Button variant="secondary" size="sm" onClick={() => setSetting(key.provider)} aria-label={key.is_set ? `Replace the ${key.provider} key` : `Set key for ${key.provider}`}>
                    {key.is_set ? "Replace" : "Set key"}
                  </Button>
                  {key.is_set ? (
                    <Button variant="ghost" size="sm" onClick={() => clear.ask(key.provider)} aria-label={`Clear the ${key.provider} key`}>
                      Clear
                    </Button>
                  ) : null}
                </div>
              </li>
            ))}
          </ul>
        </Card>
      )}
      <SetKeyDialog provider={setting} onClose={() => setSetting(null)} />
      <ConfirmRemoval
        removal={clear}
        title={(provider) => `Clear the ${provider} key?`}
        description="Agents that use this provider will fail over to their fallbacks, or fail, until a key is set again."
        confirmLabel="Clear key"
      />
    </section>
  );
}

function SetKeyDialog({ provider, onClose }: { provider: string | null; onClose: () => void }) {
  const client = useQueryClient();
  const [value, setValue] = useState("");
  const save = useMutation({
    mutationFn: () =>
      unwrap(api.PUT("/v1/provider-keys/{provider}", { params: { path: { provider: provider ?? "" } }, body: { api_key: value.trim() } })),
    onSuccess: async () => {
      setValue("");
      await client.invalidateQueries({ queryKey: KEYS });
      onClose();
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <Dialog
      open={provider !== null}
      onOpenChange={(open) => {
        if (!open) {
          setValue("");
          save.reset();
          onClose();
        }
      }}
      title={`Set the ${provider ?? ""} key`}
      description="It replaces any key set before. Velox stores it encrypted and never shows it again."
    >
      <form onSubmit={submit} className="space-y-5">
        <Field label="API key" hint="Paste the key from the provider's console." error={fieldError(save.error, "api_key")}>
          <Input type="password" autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} maxLength={512} autoFocus />
        </Field>
        <FormError error={save.error} fields={["api_key"]} />
        <div className="flex justify-end gap-2">
          <DialogClose asChild>
            <Button type="button" variant="secondary">
              Cancel
            </Button>
          </DialogClose>
          <Button type="submit" busy={save.isPending} disabled={!value.trim()}>
            Save key
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
