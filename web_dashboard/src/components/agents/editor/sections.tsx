"use client";

import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { AUDIO_FORMATS, DATA_TYPES, freshKey, renameKey, type DataCollectionField } from "@/lib/agent-draft";

import { useEditor, useFieldError } from "./context";
import {
  DefaultableListField,
  Grid,
  KeyValueEditor,
  ListField,
  NumberField,
  RemoveButton,
  Section,
  SelectField,
  SubHeading,
  TextAreaField,
  TextField,
  ToggleField,
} from "./controls";
import { PromptPreview } from "./prompt-preview";
import { useAvailableProviders, type Role } from "./providers";

export const SECTIONS = [
  { id: "general", title: "General" },
  { id: "prompt", title: "Prompt & first message" },
  { id: "voice", title: "Voice & providers" },
  { id: "turns", title: "Turn-taking & barge-in" },
  { id: "limits", title: "Silence & duration" },
  { id: "analysis", title: "Data collection & evaluation" },
  { id: "privacy", title: "Privacy & recording" },
  { id: "tools", title: "Tools" },
  { id: "knowledge", title: "Knowledge" },
  { id: "transfers", title: "Transfers & client tools" },
] as const;

/** Which section a field path belongs to, so the section index can count its errors. */
export function sectionOf(path: string): (typeof SECTIONS)[number]["id"] {
  if (path === "name" || path === "tags" || path.endsWith("agent.language")) return "general";
  if (path.includes("agent.prompt.tool_ids")) return "tools";
  if (path.includes("agent.prompt.knowledge_base") || path.includes("agent.prompt.rag")) return "knowledge";
  if (path.includes("agent.prompt.tools") || path.startsWith("velox.transfer_destinations")) return "transfers";
  if (path.includes("agent.prompt") || path.includes("agent.first_message") || path.startsWith("velox.dynamic_variables")) return "prompt";
  if (path.startsWith("platform_settings.data_collection") || path.startsWith("platform_settings.evaluation")) return "analysis";
  if (path.startsWith("platform_settings") || path.startsWith("velox.recording_disclosure")) return "privacy";
  if (path.startsWith("conversation_config.turn") || path.startsWith("conversation_config.conversation") || /velox\.(reprompt|goodbye|fallback_message)/.test(path) || path.includes("max_conversation_duration_message")) return "limits";
  if (path.startsWith("velox.providers") || path.startsWith("velox.fallback") || path.startsWith("velox.provider_timeouts") || path.includes(".tts.") || path.includes(".asr.")) return "voice";
  return "turns";
}

export function GeneralSection() {
  const { draft, edit } = useEditor();
  return (
    <Section id="general" title="General" description="How the agent is named and found, and the language it speaks.">
      <Grid>
        <TextField label="Name" path="name" value={draft.name} onChange={(value) => edit((d) => void (d.name = value))} />
        <TextField
          label="Language"
          path="conversation_config.agent.language"
          value={draft.conversation_config.agent.language}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.language = value))}
          hint="A language code such as en or en-GB: it picks the default backchannels and interrupting words."
        />
      </Grid>
      <ListField label="Tags" path="tags" value={draft.tags} onChange={(value) => edit((d) => void (d.tags = value))} placeholder="sales, outbound" hint="Comma-separated; for your own grouping." />
    </Section>
  );
}

export function PromptSection() {
  const { draft, edit, readOnly } = useEditor();
  const agent = draft.conversation_config.agent;
  return (
    <Section id="prompt" title="Prompt & first message" description="What the agent is told and the first thing it says. Both are Jinja2 templates.">
      <TextAreaField
        label="System prompt"
        path="conversation_config.agent.prompt.prompt"
        value={agent.prompt.prompt}
        onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.prompt = value))}
        rows={10}
        mono
        hint={
          <>
            Variables: <code className="font-mono">{"{{ company }}"}</code> from the defaults below or the call; system ones such as{" "}
            <code className="font-mono">{"{{ system__caller_id }}"}</code>.
          </>
        }
      />
      <TextAreaField
        label="First message"
        path="conversation_config.agent.first_message"
        value={agent.first_message}
        onChange={(value) => edit((d) => void (d.conversation_config.agent.first_message = value))}
        rows={2}
        hint="Spoken as soon as the call connects. Leave empty to wait for the caller."
      />
      {readOnly ? null : <PromptPreview />}
      <KeyValueEditor
        label="Default variable values"
        path="velox.dynamic_variables"
        value={draft.velox.dynamic_variables}
        onChange={(value) => edit((d) => void (d.velox.dynamic_variables = value))}
        keyLabel="Variable name"
        valueLabel="Default value"
        addLabel="Add variable"
        newKey="variable"
        empty="No defaults: a variable the call does not give renders empty."
        hint="Used when a call does not pass its own value (a campaign's lead, a client's override)."
      />
      <SubHeading>Language model</SubHeading>
      <Grid>
        <TextField
          label="Model"
          path="conversation_config.agent.prompt.llm"
          value={agent.prompt.llm ?? ""}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.llm = value.trim() ? value : null))}
          placeholder="The provider's default"
          hint="A model name the LLM provider knows, e.g. llama-3.1-8b-instant for Groq."
        />
        <NumberField
          label="Temperature"
          path="conversation_config.agent.prompt.temperature"
          value={agent.prompt.temperature}
          step={0.1}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.temperature = value))}
          hint="0 to 2; lower is more predictable."
        />
        <NumberField
          label="Most tokens per answer"
          path="conversation_config.agent.prompt.max_tokens"
          value={agent.prompt.max_tokens}
          step={1}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.prompt.max_tokens = value))}
          hint="-1: the provider's default."
        />
      </Grid>
    </Section>
  );
}

const ROLES: readonly { role: Role; label: string; hint: string }[] = [
  { role: "vad", label: "Voice activity detection", hint: "Hears when the caller speaks." },
  { role: "stt", label: "Speech to text", hint: "Transcribes the caller." },
  { role: "llm", label: "Language model", hint: "Writes the answers." },
  { role: "tts", label: "Text to speech", hint: "Speaks the answers." },
];

export function VoiceSection() {
  const { draft, edit } = useEditor();
  const available = useAvailableProviders();
  const formats = AUDIO_FORMATS.map((format) => ({ value: format, label: format }));
  return (
    <Section id="voice" title="Voice & providers" description="Who listens, thinks and speaks for this agent, and what to fall back on when one fails.">
      <Grid>
        <TextField label="Voice" path="conversation_config.tts.voice_id" value={draft.conversation_config.tts.voice_id} onChange={(value) => edit((d) => void (d.conversation_config.tts.voice_id = value))} hint="A voice id of the text-to-speech provider; default: its default voice." mono />
      </Grid>
      <SubHeading>Providers</SubHeading>
      <Grid>
        {ROLES.map(({ role, label, hint }) => (
          <div key={role}>
            <TextField
              label={label}
              path={`velox.providers.${role}`}
              value={draft.velox.providers[role]}
              onChange={(value) => edit((d) => void (d.velox.providers[role] = value))}
              list={`providers-${role}`}
              mono
              hint={
                available.data && available.data[role].length > 0
                  ? `${hint} On this server: ${available.data[role].join(", ")}.`
                  : hint
              }
            />
            <datalist id={`providers-${role}`}>
              {(available.data?.[role] ?? []).map((name) => (
                <option key={name} value={name} />
              ))}
            </datalist>
          </div>
        ))}
      </Grid>
      <SubHeading>Fallbacks</SubHeading>
      <div className="grid gap-5 lg:grid-cols-3">
        {(["stt", "llm", "tts"] as const).map((role) => (
          <DefaultableListField
            key={role}
            label={`${role.toUpperCase()} fallbacks`}
            path={`velox.fallbacks.${role}`}
            value={draft.velox.fallbacks[role]}
            onChange={(value) => edit((d) => void (d.velox.fallbacks[role] = value))}
            defaultLabel="Offline default"
            ownLabel="Chosen"
            placeholder="In order, comma-separated"
            hint="Default: the offline provider when the choice above is a cloud one. An empty list: no fallback."
          />
        ))}
      </div>
      <KeyValueEditor
        label="Fallback voices"
        path="velox.fallback_voices"
        value={draft.velox.fallback_voices}
        onChange={(value) => edit((d) => void (d.velox.fallback_voices = value))}
        keyLabel="Provider"
        valueLabel="Voice id"
        addLabel="Add fallback voice"
        newKey="provider"
        empty="No fallback voices: a fallback provider speaks with its default voice."
        hint="A voice id means nothing to another provider: name the voice each fallback speaks with."
      />
      <SubHeading>Provider deadlines</SubHeading>
      <Grid>
        <NumberField label="STT connect" unit="ms" path="velox.provider_timeouts.stt_connect_ms" value={draft.velox.provider_timeouts.stt_connect_ms} step={1} onChange={(value) => edit((d) => void (d.velox.provider_timeouts.stt_connect_ms = value))} />
        <NumberField label="STT final transcript" unit="ms" path="velox.provider_timeouts.stt_final_ms" value={draft.velox.provider_timeouts.stt_final_ms} step={1} onChange={(value) => edit((d) => void (d.velox.provider_timeouts.stt_final_ms = value))} />
        <NumberField label="LLM first token" unit="ms" path="velox.provider_timeouts.llm_first_token_ms" value={draft.velox.provider_timeouts.llm_first_token_ms} step={1} onChange={(value) => edit((d) => void (d.velox.provider_timeouts.llm_first_token_ms = value))} />
        <NumberField label="TTS first audio" unit="ms" path="velox.provider_timeouts.tts_first_byte_ms" value={draft.velox.provider_timeouts.tts_first_byte_ms} step={1} onChange={(value) => edit((d) => void (d.velox.provider_timeouts.tts_first_byte_ms = value))} />
      </Grid>
      <SubHeading>Audio on the conversation WebSocket</SubHeading>
      <Grid>
        <SelectField label="Caller audio format" path="conversation_config.asr.user_input_audio_format" value={draft.conversation_config.asr.user_input_audio_format} options={formats} onChange={(value) => edit((d) => void (d.conversation_config.asr.user_input_audio_format = value))} />
        <SelectField label="Agent audio format" path="conversation_config.tts.agent_output_audio_format" value={draft.conversation_config.tts.agent_output_audio_format} options={formats} onChange={(value) => edit((d) => void (d.conversation_config.tts.agent_output_audio_format = value))} />
      </Grid>
    </Section>
  );
}

export function TurnsSection() {
  const { draft, edit } = useEditor();
  const v = draft.velox;
  return (
    <Section id="turns" title="Turn-taking & barge-in" description="When the caller has finished, and what happens when they speak over the agent.">
      <SubHeading>End of turn (silence after the caller’s last words)</SubHeading>
      <Grid>
        <NumberField label="After a statement" unit="ms" path="velox.end_of_turn_silence_ms" value={v.end_of_turn_silence_ms} step={1} onChange={(value) => edit((d) => void (d.velox.end_of_turn_silence_ms = value))} />
        <NumberField label="After a finished question" unit="ms" path="velox.end_of_turn_complete_ms" value={v.end_of_turn_complete_ms} step={1} onChange={(value) => edit((d) => void (d.velox.end_of_turn_complete_ms = value))} />
        <NumberField label="After a dangling “and…” or “um”" unit="ms" path="velox.end_of_turn_incomplete_ms" value={v.end_of_turn_incomplete_ms} step={1} onChange={(value) => edit((d) => void (d.velox.end_of_turn_incomplete_ms = value))} />
        <NumberField label="Premature answer recovery" unit="ms" path="velox.premature_recovery_ms" value={v.premature_recovery_ms} step={1} onChange={(value) => edit((d) => void (d.velox.premature_recovery_ms = value))} hint="Speech this soon after an answer starts means the caller had not finished: the answer is withdrawn." />
      </Grid>
      <SubHeading>Barge-in</SubHeading>
      <ToggleField label="Let callers interrupt" path="velox.allow_barge_in" checked={v.allow_barge_in} onChange={(value) => edit((d) => void (d.velox.allow_barge_in = value))} hint="The agent stops the moment the caller speaks over it." />
      <ToggleField label="Never interrupt the first message" path="conversation_config.agent.disable_first_message_interruptions" checked={draft.conversation_config.agent.disable_first_message_interruptions} onChange={(value) => edit((d) => void (d.conversation_config.agent.disable_first_message_interruptions = value))} />
      <Grid>
        <NumberField label="Yield after" unit="ms of speech" path="velox.barge_in_min_speech_ms" value={v.barge_in_min_speech_ms} step={1} onChange={(value) => edit((d) => void (d.velox.barge_in_min_speech_ms = value))} hint="The agent pauses after this much caller speech." />
        <NumberField label="A real interruption after" unit="ms" path="velox.interruption_min_speech_ms" value={v.interruption_min_speech_ms} step={1} onChange={(value) => edit((d) => void (d.velox.interruption_min_speech_ms = value))} hint="Shorter speech that is a backchannel or a cough lets the reply resume." />
        <NumberField label="Short burst" unit="ms" path="velox.short_burst_ms" value={v.short_burst_ms} step={1} onChange={(value) => edit((d) => void (d.velox.short_burst_ms = value))} />
        <NumberField label="Echo suppression" unit="dB" path="velox.echo_suppression_db" value={v.echo_suppression_db} step={0.5} onChange={(value) => edit((d) => void (d.velox.echo_suppression_db = value))} hint="0 turns the echo gate off." />
        <NumberField label="Echo tail" unit="ms" path="velox.echo_tail_ms" value={v.echo_tail_ms} step={1} onChange={(value) => edit((d) => void (d.velox.echo_tail_ms = value))} />
      </Grid>
      <Grid>
        <DefaultableListField label="Backchannels" path="velox.backchannel_phrases" value={v.backchannel_phrases} onChange={(value) => edit((d) => void (d.velox.backchannel_phrases = value))} defaultLabel="The language’s defaults" ownLabel="These phrases" placeholder="mm-hmm, okay, right" hint="Said over the agent, these let it carry on." />
        <DefaultableListField label="Interrupting words" path="velox.interruption_phrases" value={v.interruption_phrases} onChange={(value) => edit((d) => void (d.velox.interruption_phrases = value))} defaultLabel="The language’s defaults" ownLabel="These words" placeholder="wait, stop, sorry" hint="Said over the agent, these stop it at once." />
      </Grid>
    </Section>
  );
}

export function LimitsSection() {
  const { draft, edit } = useEditor();
  const turn = draft.conversation_config.turn;
  return (
    <Section id="limits" title="Silence & duration" description="What the agent does when the caller goes quiet, and how long a call may last.">
      <Grid>
        <NumberField label="Re-prompt after silence" unit="s" path="conversation_config.turn.turn_timeout" value={turn.turn_timeout} step={0.5} onChange={(value) => edit((d) => void (d.conversation_config.turn.turn_timeout = value))} hint="-1: never." />
        <NumberField label="Hang up after silence" unit="s" path="conversation_config.turn.silence_end_call_timeout" value={turn.silence_end_call_timeout} step={0.5} onChange={(value) => edit((d) => void (d.conversation_config.turn.silence_end_call_timeout = value))} hint="-1: never." />
        <NumberField label="Longest call" unit="s" path="conversation_config.conversation.max_duration_seconds" value={draft.conversation_config.conversation.max_duration_seconds} step={1} onChange={(value) => edit((d) => void (d.conversation_config.conversation.max_duration_seconds = value))} hint="10 seconds to 4 hours." />
      </Grid>
      <Grid>
        <TextField label="Re-prompt" path="velox.reprompt_message" value={draft.velox.reprompt_message} onChange={(value) => edit((d) => void (d.velox.reprompt_message = value))} />
        <TextField label="Goodbye after silence" path="velox.goodbye_message" value={draft.velox.goodbye_message} onChange={(value) => edit((d) => void (d.velox.goodbye_message = value))} />
        <TextField label="When a provider fails" path="velox.fallback_message" value={draft.velox.fallback_message} onChange={(value) => edit((d) => void (d.velox.fallback_message = value))} />
        <TextField
          label="At the time limit"
          path="conversation_config.agent.max_conversation_duration_message"
          value={draft.conversation_config.agent.max_conversation_duration_message ?? ""}
          onChange={(value) => edit((d) => void (d.conversation_config.agent.max_conversation_duration_message = value ? value : null))}
          placeholder="Nothing: the call just ends"
        />
      </Grid>
      <ToggleField label="Text only" path="conversation_config.conversation.text_only" checked={draft.conversation_config.conversation.text_only} onChange={(value) => edit((d) => void (d.conversation_config.conversation.text_only = value))} hint="Conversations exchange text, no audio." />
    </Section>
  );
}

export function AnalysisSection() {
  const { draft, edit, readOnly } = useEditor();
  const fields = draft.platform_settings.data_collection;
  const criteria = draft.platform_settings.evaluation.criteria;
  const fieldsError = useFieldError("platform_settings.data_collection");
  const criteriaError = useFieldError("platform_settings.evaluation.criteria");
  const setField = (id: string, change: Partial<DataCollectionField>) =>
    edit((d) => {
      const current = d.platform_settings.data_collection[id];
      if (current) d.platform_settings.data_collection[id] = { ...current, ...change };
    });
  return (
    <Section id="analysis" title="Data collection & evaluation" description="What the analysis after each call pulls out of the transcript, and the goals it judges the call against.">
      <SubHeading>Data collection</SubHeading>
      {Object.keys(fields).length === 0 ? <p className="rounded-md border border-dashed border-line px-3 py-2.5 text-sm text-muted">No fields: the analysis keeps a summary, sentiment and outcome only.</p> : null}
      {Object.entries(fields).map(([id, field], index) => (
        <div key={index} className="grid gap-2 rounded-md border border-line p-3 sm:grid-cols-[1fr_9rem_2fr_auto]">
          <Input aria-label={`Field ${index + 1} name`} className="font-mono" value={id} readOnly={readOnly} onChange={(event) => edit((d) => void (d.platform_settings.data_collection = renameKey(d.platform_settings.data_collection, id, event.target.value)))} />
          <Select aria-label={`Field ${index + 1} type`} value={field.type} disabled={readOnly} onChange={(event) => setField(id, { type: event.target.value as DataCollectionField["type"] })}>
            {DATA_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </Select>
          <Input aria-label={`Field ${index + 1} description`} placeholder="What to extract, e.g. the caller’s monthly budget" value={field.description} readOnly={readOnly} onChange={(event) => setField(id, { description: event.target.value })} />
          <RemoveButton label={`Remove field ${id}`} disabled={readOnly} onClick={() => edit((d) => void delete d.platform_settings.data_collection[id])} />
        </div>
      ))}
      {fieldsError ? <p role="alert" className="text-xs font-medium text-danger">{fieldsError}</p> : null}
      {readOnly ? null : (
        <Button type="button" variant="secondary" size="sm" onClick={() => edit((d) => void (d.platform_settings.data_collection[freshKey("field", Object.keys(d.platform_settings.data_collection))] = { type: "string", description: "" }))}>
          Add field
        </Button>
      )}
      <SubHeading>Evaluation criteria</SubHeading>
      {criteria.length === 0 ? <p className="rounded-md border border-dashed border-line px-3 py-2.5 text-sm text-muted">No criteria: calls are not judged against goals.</p> : null}
      {criteria.map((criterion, index) => (
        <div key={index} className="grid gap-2 rounded-md border border-line p-3 sm:grid-cols-[1fr_1.4fr_auto]">
          <Input aria-label={`Criterion ${index + 1} id`} className="font-mono" value={criterion.id} readOnly={readOnly} onChange={(event) => edit((d) => void (d.platform_settings.evaluation.criteria[index]!.id = event.target.value))} />
          <Input aria-label={`Criterion ${index + 1} name`} placeholder="Name" value={criterion.name} readOnly={readOnly} onChange={(event) => edit((d) => void (d.platform_settings.evaluation.criteria[index]!.name = event.target.value))} />
          <RemoveButton label={`Remove criterion ${criterion.id || index + 1}`} disabled={readOnly} onClick={() => edit((d) => void d.platform_settings.evaluation.criteria.splice(index, 1))} />
          <Textarea aria-label={`Criterion ${index + 1} goal`} className="sm:col-span-3" rows={2} placeholder="The goal, e.g. “The caller agreed to a demo with a date and time.”" value={criterion.conversation_goal_prompt} readOnly={readOnly} onChange={(event) => edit((d) => void (d.platform_settings.evaluation.criteria[index]!.conversation_goal_prompt = event.target.value))} />
        </div>
      ))}
      {criteriaError ? <p role="alert" className="text-xs font-medium text-danger">{criteriaError}</p> : null}
      {readOnly ? null : (
        <Button type="button" variant="secondary" size="sm" onClick={() => edit((d) => void d.platform_settings.evaluation.criteria.push({ id: freshKey("goal", d.platform_settings.evaluation.criteria.map((c) => c.id)), name: "", type: "prompt", conversation_goal_prompt: "" }))}>
          Add criterion
        </Button>
      )}
    </Section>
  );
}

export function PrivacySection() {
  const { draft, edit } = useEditor();
  const privacy = draft.platform_settings.privacy;
  return (
    <Section id="privacy" title="Privacy & recording" description="What is kept of each call, for how long, and who may start a conversation.">
      <ToggleField label="Record calls" path="platform_settings.privacy.record_voice" checked={privacy.record_voice} onChange={(value) => edit((d) => void (d.platform_settings.privacy.record_voice = value))} hint="Stereo: the caller left, what they heard right. A caller may have to be told; see the disclosure below." />
      <TextField label="Recording disclosure" path="velox.recording_disclosure" value={draft.velox.recording_disclosure} onChange={(value) => edit((d) => void (d.velox.recording_disclosure = value))} placeholder="This call is recorded." hint="Said before the first message of a recorded call." />
      <ToggleField label="Redact personal data" path="platform_settings.privacy.redact_pii" checked={privacy.redact_pii} onChange={(value) => edit((d) => void (d.platform_settings.privacy.redact_pii = value))} hint="Stored transcripts and analyses get phone numbers, e-mail addresses and card numbers replaced. The agent still hears them." />
      <Grid>
        <NumberField label="Keep calls for" unit="days" path="platform_settings.privacy.retention_days" value={privacy.retention_days} step={1} onChange={(value) => edit((d) => void (d.platform_settings.privacy.retention_days = value))} hint="-1 keeps them." />
        <NumberField label="Keep recordings for" unit="days" path="platform_settings.privacy.audio_retention_days" value={privacy.audio_retention_days} step={1} onChange={(value) => edit((d) => void (d.platform_settings.privacy.audio_retention_days = value))} hint="-1 keeps them; the transcript stays as long as the call." />
      </Grid>
      <ToggleField label="Private agent" path="platform_settings.auth.enable_auth" checked={draft.platform_settings.auth.enable_auth} onChange={(value) => edit((d) => void (d.platform_settings.auth.enable_auth = value))} hint="A conversation needs a signed URL or the organization’s API key; nobody can start one with the agent id alone." />
    </Section>
  );
}

export function TransfersSection() {
  const { draft, edit, readOnly } = useEditor();
  const destinations = draft.velox.transfer_destinations;
  const tools = draft.conversation_config.agent.prompt.tools;
  const destinationsError = useFieldError("velox.transfer_destinations");
  const toolsError = useFieldError("conversation_config.agent.prompt.tools");
  return (
    <Section id="transfers" title="Transfers & client tools" description="People the agent may hand a phone call to, and the client tools a web or app conversation offers it.">
      <SubHeading>Transfer destinations</SubHeading>
      {destinations.length === 0 ? <p className="rounded-md border border-dashed border-line px-3 py-2.5 text-sm text-muted">None: the agent cannot transfer a call.</p> : null}
      {destinations.map((destination, index) => (
        <div key={index} className="grid gap-2 sm:grid-cols-[12rem_1fr_auto]">
          <Input aria-label={`Destination ${index + 1} number`} className="font-mono" placeholder="+15551234567" value={destination.phone_number} readOnly={readOnly} onChange={(event) => edit((d) => void (d.velox.transfer_destinations[index]!.phone_number = event.target.value))} />
          <Input aria-label={`Destination ${index + 1} description`} placeholder="Who answers there, e.g. billing team" value={destination.description} readOnly={readOnly} onChange={(event) => edit((d) => void (d.velox.transfer_destinations[index]!.description = event.target.value))} />
          <RemoveButton label={`Remove destination ${index + 1}`} disabled={readOnly} onClick={() => edit((d) => void d.velox.transfer_destinations.splice(index, 1))} />
        </div>
      ))}
      {destinationsError ? <p role="alert" className="text-xs font-medium text-danger">{destinationsError}</p> : null}
      {readOnly ? null : (
        <Button type="button" variant="secondary" size="sm" onClick={() => edit((d) => void d.velox.transfer_destinations.push({ phone_number: "", description: "" }))}>
          Add destination
        </Button>
      )}
      <SubHeading>Client tools</SubHeading>
      {tools.length === 0 ? <p className="rounded-md border border-dashed border-line px-3 py-2.5 text-sm text-muted">None. A web or app client runs a client tool when the agent calls it.</p> : null}
      {tools.map((tool, index) => (
        <ToolRow key={index} index={index} />
      ))}
      {toolsError ? <p role="alert" className="text-xs font-medium text-danger">{toolsError}</p> : null}
      {readOnly ? null : (
        <Button
          type="button"
          variant="secondary"
          size="sm"
          onClick={() =>
            edit((d) =>
              void d.conversation_config.agent.prompt.tools.push({
                type: "client",
                name: freshKey("tool", d.conversation_config.agent.prompt.tools.map((t) => t.name)),
                description: "",
                parameters: { type: "object", properties: {} },
                expects_response: false,
                response_timeout_secs: 20,
              }),
            )
          }
        >
          Add client tool
        </Button>
      )}
    </Section>
  );
}

function ToolRow({ index }: { index: number }) {
  const { draft, edit, readOnly } = useEditor();
  const tool = draft.conversation_config.agent.prompt.tools[index]!;
  const parametersText = JSON.stringify(tool.parameters ?? null, null, 2);
  return (
    <div className="space-y-3 rounded-md border border-line p-3">
      <div className="grid gap-2 sm:grid-cols-[1fr_2fr_auto]">
        <Input aria-label={`Tool ${index + 1} name`} className="font-mono" value={tool.name} readOnly={readOnly} onChange={(event) => edit((d) => void (d.conversation_config.agent.prompt.tools[index]!.name = event.target.value))} />
        <Input aria-label={`Tool ${index + 1} description`} placeholder="What it does, for the model" value={tool.description} readOnly={readOnly} onChange={(event) => edit((d) => void (d.conversation_config.agent.prompt.tools[index]!.description = event.target.value))} />
        <RemoveButton label={`Remove tool ${tool.name}`} disabled={readOnly} onClick={() => edit((d) => void d.conversation_config.agent.prompt.tools.splice(index, 1))} />
      </div>
      <ParametersField index={index} initial={parametersText} />
      <div className="flex flex-wrap items-center gap-x-6 gap-y-2 text-sm">
        <label className="inline-flex items-center gap-2 text-ink">
          <input type="checkbox" className="h-4 w-4 accent-[rgb(var(--accent))]" checked={tool.expects_response} disabled={readOnly} onChange={(event) => edit((d) => void (d.conversation_config.agent.prompt.tools[index]!.expects_response = event.target.checked))} />
          Wait for the client’s result
        </label>
        <label className="inline-flex items-center gap-2 text-ink">
          Timeout (s)
          <Input type="number" className="h-8 w-20" value={tool.response_timeout_secs} readOnly={readOnly} onChange={(event) => edit((d) => void (d.conversation_config.agent.prompt.tools[index]!.response_timeout_secs = Number(event.target.value)))} />
        </label>
      </div>
    </div>
  );
}

/** A tool's parameters as JSON schema text; applied to the draft whenever it parses. */
function ParametersField({ index, initial }: { index: number; initial: string }) {
  const { edit, readOnly } = useEditor();
  return (
    <Field label={`Tool ${index + 1} parameters (JSON schema)`} hint='An object schema, e.g. {"type": "object", "properties": {"day": {"type": "string"}}}.'>
      <Textarea
        rows={3}
        className="font-mono text-[13px]"
        defaultValue={initial}
        readOnly={readOnly}
        onChange={(event) => {
          try {
            const parsed = JSON.parse(event.target.value) as Record<string, unknown> | null;
            edit((d) => void (d.conversation_config.agent.prompt.tools[index]!.parameters = parsed));
          } catch {
            // Not JSON yet (mid-edit): the draft keeps the last schema that parsed.
          }
        }}
      />
    </Field>
  );
}
