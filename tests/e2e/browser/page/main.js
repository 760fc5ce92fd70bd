// The unmodified @elevenlabs/client, as a web page bundles it, with a small API on `window` for
// the Python test: start a voice session over WebSocket, record every callback, end the session.
import { Conversation } from "@elevenlabs/client";

const events = [];
let conversation = null;
let maxOutputVolume = 0;
let volumeTimer = null;

function record(kind, data) {
  events.push({ kind, data: data === undefined ? null : data, at_ms: performance.now() });
}

function plain(value) {
  // Callback arguments made JSON-safe (errors and contexts may hold non-serializable objects).
  if (value instanceof Error) {
    // SessionConnectionError carries the WebSocket close code and reason.
    const { name, message, closeCode, closeReason } = value;
    return { name, message, closeCode: closeCode ?? null, closeReason: closeReason ?? null };
  }
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch {
    return String(value);
  }
}

function sampleOutputVolume() {
  if (conversation && conversation.isOpen()) {
    maxOutputVolume = Math.max(maxOutputVolume, conversation.getOutputVolume());
  }
}

window.velox = {
  events,

  /** Start a voice session: `{agentId, origin}` or `{signedUrl}`. Resolves to the conversation id. */
  async start({ agentId, signedUrl, origin }) {
    const session = signedUrl ? { signedUrl } : { agentId, origin };
    try {
      conversation = await Conversation.startSession({
        ...session,
        connectionType: "websocket",
        clientTools: {
          show_opening_hours: async parameters => {
            record("clientTool", { name: "show_opening_hours", parameters: plain(parameters) });
            return "The opening hours are on the screen.";
          },
        },
        onConnect: ({ conversationId }) => record("connect", { conversationId }),
        onDisconnect: details => record("disconnect", plain(details)),
        onError: (message, context) => record("error", { message, context: plain(context) }),
        onMessage: message => record("message", plain(message)),
        onModeChange: ({ mode }) => record("mode", { mode }),
        onStatusChange: ({ status }) => record("status", { status }),
        onVadScore: ({ vadScore }) => record("vadScore", { vadScore }),
        onAudio: base64 => record("audio", { base64Chars: base64.length }),
      });
    } catch (error) {
      record("startFailed", plain(error));
      throw error;
    }
    volumeTimer = setInterval(sampleOutputVolume, 20);
    return conversation.getId();
  },

  /** End the session the way an app does; resolves once the client has torn it down. */
  async end() {
    clearInterval(volumeTimer);
    await conversation.endSession();
  },

  status() {
    return conversation ? conversation.status : "idle";
  },

  maxOutputVolume() {
    return maxOutputVolume;
  },
};
