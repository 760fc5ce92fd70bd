/**
 * One conversation's connection to Velox, kept through a bad network: when the socket drops,
 * reconnect with backoff and take the same conversation back (its id and resume token) for as
 * long as the server holds it; then the call has ended.
 *
 * A connection that has gone quiet (no ping for `QUIET_LIMIT_MS`; the server pings every 5 s) is
 * given up with close code 4001, which Velox reads as "lost, I will resume" rather than as the
 * caller hanging up.
 */

import {
  initiationMessage,
  parseServerMessage,
  pongMessage,
  ProtocolError,
  type Resume,
  type Scalar,
  type ServerEvent,
} from "./protocol";

export type LinkStatus =
  | { state: "connecting" }
  | { state: "live"; conversationId: string; resumed: boolean }
  | { state: "reconnecting"; conversationId: string; attempt: number }
  | { state: "ended"; reason: EndReason; message: string };

export type EndReason = "you_ended" | "agent_ended" | "not_resumed" | "refused" | "failed";

export const CLIENT_WILL_RESUME = 4001;
const QUIET_LIMIT_MS = 12_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 500;

/** The wait before reconnect attempt `attempt` (0-based): short, because speech is waiting
 * (a refused attempt costs the server one quick HTTP answer). */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Whether a socket that closed with `code` left a conversation that can be taken back. */
export function mayResume(code: number, established: boolean, resume: Resume | null): boolean {
  if (!established || resume === null || resume.windowS <= 0) return false;
  // 1000: the agent ended it; 1002/1008/1011: the server refused or failed it (with an error).
  return ![1000, 1002, 1008, 1011].includes(code);
}

export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LinkOptions {
  /** The first socket's URL (its signature is spent by this connection). */
  url: string;
  /** Where to reconnect: the conversation endpoint of the same server, without a query. */
  endpoint: string;
  agentId: string;
  variables: Record<string, Scalar>;
  onStatus: (status: LinkStatus) => void;
  onEvent: (event: ServerEvent) => void;
  openSocket?: (url: string) => SocketLike;
  now?: () => number;
}

export class ConversationLink {
  private socket: SocketLike | null = null;
  private conversationId = "";
  private resume: Resume | null = null;
  private established = false;
  private droppedAt = 0;
  private reconnecting = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private quietTimer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;
  private readonly open: (url: string) => SocketLike;
  private readonly now: () => number;

  constructor(private readonly options: LinkOptions) {
    this.open = options.openSocket ?? ((url) => new WebSocket(url));
    this.now = options.now ?? (() => Date.now());
  }

  start(): void {
    this.options.onStatus({ state: "connecting" });
    this.connect(this.options.url, false);
    if (typeof window !== "undefined") window.addEventListener("online", this.retryNow);
  }

  /** Send when a socket is up; false when the message is dropped (the line is down). */
  send(message: string): boolean {
    if (!this.socket || this.socket.readyState !== 1 || !this.established) return false;
    this.socket.send(message);
    return true;
  }

  /** The user hangs up. */
  end(): void {
    this.finish("you_ended", "You ended the call.");
    this.socket?.close(1000, "user ended the call");
  }

  private connect(url: string, resuming: boolean): void {
    const socket = this.open(url);
    this.socket = socket;
    let initiated = false;
    socket.onopen = () => {
      // A resuming socket does not initiate: Velox hands it the held conversation at once (its
      // variables were set when it began), which saves a round trip on a slow network.
      if (!resuming) socket.send(initiationMessage(this.options.variables));
      this.watchQuiet(socket);
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.socket !== socket || typeof message.data !== "string") return;
      this.watchQuiet(socket);
      let event: ServerEvent;
      try {
        event = parseServerMessage(message.data);
      } catch (error) {
        if (error instanceof ProtocolError) return; // one unreadable message does not end a call
        throw error;
      }
      if (event.kind === "ping") {
        socket.send(pongMessage(event.eventId));
        return;
      }
      if (event.kind === "metadata") {
        initiated = true;
        this.established = true;
        this.conversationId = event.conversationId;
        this.resume = event.resume ?? this.resume;
        this.attempt = 0;
        this.reconnecting = false;
        this.options.onStatus({ state: "live", conversationId: this.conversationId, resumed: resuming });
      }
      this.options.onEvent(event);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.clearQuiet();
      this.socket = null;
      if (this.ended) return;
      if (resuming && !initiated) {
        this.dropped(); // this attempt did not get through: try again while the window lasts
        return;
      }
      if (mayResume(event.code, this.established, this.resume)) {
        this.dropped();
        return;
      }
      if (!this.established) {
        this.finish("failed", "Could not connect to the agent. Check the connection and try again.");
      } else if (event.code === 1000) {
        this.finish("agent_ended", "The call ended.");
      } else {
        this.finish("refused", event.reason ? `The call ended: ${event.reason}` : "The call ended.");
      }
    };
    socket.onerror = () => {
      // A close event follows with the code; nothing to decide here.
    };
  }

  /** The line is down: from the first drop, the server holds the conversation for its window. */
  private dropped(): void {
    if (!this.reconnecting) {
      this.reconnecting = true;
      this.droppedAt = this.now();
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const resume = this.resume;
    if (!resume) return;
    const left = this.droppedAt + resume.windowS * 1000 - this.now();
    if (left <= 0) {
      this.finish("not_resumed", "The connection did not come back in time: the call ended.");
      return;
    }
    this.options.onStatus({ state: "reconnecting", conversationId: this.conversationId, attempt: this.attempt });
    const delay = Math.min(retryDelayMs(this.attempt), left);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.attemptResume(), delay);
  }

  private attemptResume(): void {
    this.retryTimer = null;
    if (this.ended || !this.resume) return;
    if (this.droppedAt + this.resume.windowS * 1000 <= this.now()) {
      this.finish("not_resumed", "The connection did not come back in time: the call ended.");
      return;
    }
    const query = new URLSearchParams({
      agent_id: this.options.agentId,
      conversation_id: this.conversationId,
      resume_token: this.resume.token,
    });
    this.connect(`${this.options.endpoint}?${query.toString()}`, true);
  }

  /** The network is back (the browser says so): try at once instead of at the next tick. */
  private readonly retryNow = (): void => {
    if (this.retryTimer === null || this.ended) return;
    clearTimeout(this.retryTimer);
    this.attemptResume();
  };

  private watchQuiet(socket: SocketLike): void {
    this.clearQuiet();
    this.quietTimer = setTimeout(() => {
      if (this.socket !== socket || this.ended) return;
      // Do not wait for a closing handshake over a dead line: this socket is over for us now.
      this.socket = null;
      socket.close(CLIENT_WILL_RESUME, "no word from the server");
      if (this.established && this.resume) {
        this.dropped();
      } else {
        this.finish("failed", "The connection went quiet: the call ended.");
      }
    }, QUIET_LIMIT_MS);
  }

  private clearQuiet(): void {
    if (this.quietTimer !== null) clearTimeout(this.quietTimer);
    this.quietTimer = null;
  }

  private finish(reason: EndReason, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clearQuiet();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (typeof window !== "undefined") window.removeEventListener("online", this.retryNow);
    this.options.onStatus({ state: "ended", reason, message });
  }
}
