"""The voice engine: one transport-agnostic session per call."""
