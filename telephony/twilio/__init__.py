"""Twilio: Media Streams codec, and the transport and webhooks built on it."""
