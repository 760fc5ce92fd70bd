"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "@/api/client";
import { ApiError, errorMessage } from "@/api/errors";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";

/** Names a new agent (Velox's defaults for the rest) and hands its id on to the editor. */
export function CreateAgentDialog({
  open,
  onOpenChange,
  onCreated,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreated: (agentId: string) => void;
}) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: (agentName: string) =>
      unwrap(api.POST("/v1/convai/agents/create", { body: { name: agentName, conversation_config: {} } })),
    onSuccess: async ({ agent_id }) => {
      await client.invalidateQueries({ queryKey: ["agents"] });
      setName("");
      onCreated(agent_id);
    },
  });
  const nameError =
    create.error instanceof ApiError ? create.error.fieldErrors.find((error) => error.path === "name")?.message : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(name.trim());
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next) create.reset();
        onOpenChange(next);
      }}
      title="New agent"
      description="Name it now; the editor opens next with Velox's defaults for everything else."
    >
      <form onSubmit={submit} className="space-y-5">
        <Field label="Agent name" hint="Shown in lists and call records, e.g. “Front desk” or “Renewals outbound”." error={nameError}>
          <Input value={name} onChange={(event) => setName(event.target.value)} maxLength={200} autoFocus />
        </Field>
        {create.error && !nameError ? (
          <p role="alert" className="text-sm font-medium text-danger">
            {errorMessage(create.error)}
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <DialogClose asChild>
            <Button type="button" variant="secondary">
              Cancel
            </Button>
          </DialogClose>
          <Button type="submit" busy={create.isPending} disabled={!name.trim()}>
            Create agent
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
