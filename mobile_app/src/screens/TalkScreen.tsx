import { useEffect, useRef, useState } from "react";
import { ApiError, NetworkError, type AgentChoice, type ApiClient, type Lead } from "../api";
import { TopBar } from "../components";
import { leadName, meterValue } from "../format";
import { microphones, type Microphone } from "../talk/audio";
import { TalkCall, type CallView } from "../talk/call";
import { leadVariables } from "../talk/protocol";

const MICROPHONE_KEY = "velox.microphone";

function problemText(error: unknown): string {
  if (error instanceof DOMException && error.name === "NotAllowedError")
    return "The microphone is blocked. Allow it for this app in the browser's site settings, then try again.";
  if (error instanceof DOMException && error.name === "NotFoundError")
    return "No microphone was found. Connect one, or choose another below.";
  if (error instanceof DOMException && error.name === "OverconstrainedError")
    return "That microphone is gone. Choose another one below.";
  if (error instanceof NetworkError) return "No connection: the call cannot start offline.";
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function TalkScreen(props: { api: ApiClient; lead: Lead | null; leadId: string; onBack: () => void }): JSX.Element {
  const { api, lead } = props;
  const [agents, setAgents] = useState<AgentChoice[] | null>(null);
  const [agentId, setAgentId] = useState("");
  const [mics, setMics] = useState<Microphone[]>([]);
  const [micId, setMicId] = useState<string>(() => localStorage.getItem(MICROPHONE_KEY) ?? "");
  const [view, setView] = useState<CallView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const call = useRef<TalkCall | null>(null);
  const transcriptEnd = useRef<HTMLLIElement | null>(null);

  useEffect(() => {
    api
      .agents()
      .then((choices) => {
        setAgents(choices);
        setAgentId((current) => current || choices[0]?.agent_id || "");
      })
      .catch((error: unknown) => {
        setAgents([]);
        setProblem(problemText(error));
      });
    void refreshMicrophones(setMics);
    const changed = (): void => void refreshMicrophones(setMics);
    navigator.mediaDevices?.addEventListener("devicechange", changed);
    const back = (): void => {
      if (document.visibilityState === "visible") void call.current?.wake();
    };
    document.addEventListener("visibilitychange", back);
    return () => {
      navigator.mediaDevices?.removeEventListener("devicechange", changed);
      document.removeEventListener("visibilitychange", back);
      call.current?.hangUp(); // leaving the screen ends the call
    };
  }, [api]);

  useEffect(() => {
    transcriptEnd.current?.scrollIntoView?.({ block: "end" });
  }, [view?.lines.length]);

  if (!lead) {
    return (
      <main className="screen">
        <TopBar title="Talk" onBack={props.onBack} />
        <p className="empty">This lead is not among your leads.</p>
      </main>
    );
  }

  const inCall = view !== null && view.phase !== "ended";
  const agentName = agents?.find((agent) => agent.agent_id === agentId)?.name ?? "the agent";

  async function start(target: Lead): Promise<void> {
    setProblem(null);
    setStarting(true);
    try {
      const signedUrl = await api.signedUrl(agentId);
      call.current = await TalkCall.begin({
        signedUrl,
        agentId,
        agentName,
        leadName: leadName(target),
        variables: leadVariables(target),
        microphoneId: micId || null,
        onChange: setView,
      });
      setView(call.current.current);
      void refreshMicrophones(setMics); // labels are known once the microphone is allowed
    } catch (error) {
      setProblem(problemText(error));
    } finally {
      setStarting(false);
    }
  }

  async function chooseMicrophone(id: string): Promise<void> {
    setMicId(id);
    localStorage.setItem(MICROPHONE_KEY, id);
    if (!inCall || !call.current) return;
    try {
      await call.current.useMicrophone(id);
    } catch (error) {
      setProblem(problemText(error));
    }
  }

  const level = view ? meterValue(view.level) : 0;
  return (
    <main className="screen talk">
      <TopBar title={`Talk · ${leadName(lead)}`} onBack={props.onBack} />
      <section className="card form" aria-label="Call settings">
        <label>
          Agent
          <select value={agentId} disabled={inCall || !agents?.length} onChange={(event) => setAgentId(event.target.value)}>
            {agents === null ? <option value="">Loading…</option> : null}
            {agents?.length === 0 ? <option value="">No agents allowed for you</option> : null}
            {agents?.map((agent) => (
              <option key={agent.agent_id} value={agent.agent_id}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Microphone
          <select value={micId} onChange={(event) => void chooseMicrophone(event.target.value)}>
            <option value="">Default microphone</option>
            {mics.map((mic) => (
              <option key={mic.deviceId} value={mic.deviceId}>
                {mic.label}
              </option>
            ))}
          </select>
        </label>
        <p className="muted small">The lead's details are passed to the agent: {Object.keys(leadVariables(lead)).join(", ")}.</p>
      </section>

      {problem ? (
        <p className="banner banner-bad" role="alert">
          {problem}
        </p>
      ) : null}

      <section className="card" aria-label="Call">
        <p className={`call-notice call-${view?.phase ?? "idle"}`} role="status" aria-live="polite" data-conversation-id={view?.conversationId ?? ""}>
          {view ? view.notice : "Ready when you are."}
        </p>
        <div className="meter-row">
          <span className="muted small">Mic</span>
          <div className="meter" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100} aria-valuenow={level}>
            <div className="meter-fill" style={{ width: `${level}%` }} />
          </div>
          {view?.agentSpeaking ? <span className="chip chip-good">Agent speaking</span> : null}
        </div>
        {view?.processing ? (
          <p className="muted small" data-testid="processing">
            Echo cancellation {onOff(view.processing.echoCancellation)} · noise suppression {onOff(view.processing.noiseSuppression)} · auto gain{" "}
            {onOff(view.processing.autoGainControl)}
          </p>
        ) : null}
        {view?.screenAwake ? <p className="muted small">The screen stays on during the call.</p> : null}
        <div className="actions">
          {inCall ? (
            <>
              <button type="button" className="button" aria-pressed={view.muted} onClick={() => call.current?.setMuted(!view.muted)}>
                {view.muted ? "Unmute" : "Mute"}
              </button>
              <button type="button" className="button danger" onClick={() => call.current?.hangUp()}>
                End call
              </button>
            </>
          ) : (
            <button
              type="button"
              className="button primary talk-start"
              disabled={starting || !agentId}
              onClick={() => void start(lead)}
            >
              {starting ? "Starting…" : view ? "Talk again" : `Talk to ${agentName}`}
            </button>
          )}
        </div>
      </section>

      <section className="card" aria-label="Transcript">
        <h2>Transcript</h2>
        {view?.lines.length ? (
          <ol className="transcript">
            {view.lines.map((line) => (
              <li key={line.id} className={`line line-${line.role}`}>
                <span className="who">{line.role === "agent" ? agentName : "You"}</span>
                <span>{line.text}</span>
              </li>
            ))}
            <li ref={transcriptEnd} aria-hidden="true" className="transcript-end" />
          </ol>
        ) : (
          <p className="muted">What you and the agent say appears here.</p>
        )}
      </section>

      {view?.phase === "ended" ? (
        <button type="button" className="button primary" onClick={props.onBack}>
          Record the outcome
        </button>
      ) : null}
    </main>
  );
}

function onOff(on: boolean): string {
  return on ? "on" : "off";
}

async function refreshMicrophones(set: (mics: Microphone[]) => void): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  try {
    set(await microphones());
  } catch {
    set([]);
  }
}
