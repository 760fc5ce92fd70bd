"""ElevenLabs Agents conversation WebSocket (`/v1/convai/conversation`): the server-side codec."""
