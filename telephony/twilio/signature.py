"""`X-Twilio-Signature` checks for webhooks and the Media Streams WebSocket upgrade."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "x-twilio-signature"


def url_variants(url: str) -> list[str]:
    """The forms Twilio may have signed: as given, and its `wss`/`https` (`ws`/`http`) twin."""
    parts = urlsplit(url)
    twins = {"wss": "https", "https": "wss", "ws": "http", "http": "ws"}
    variants = [url]
    if parts.scheme in twins:
        variants.append(urlunsplit((twins[parts.scheme], *parts[1:])))
    return variants


class TwilioSignature:
    """Validates requests when an auth token is configured; without one, checks are off."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token) if auth_token else None

    def is_valid(
        self, urls: Iterable[str], params: Mapping[str, str], signature: str | None
    ) -> bool:
        if self._validator is None:
            return True
        if not signature or not signature.isascii():
            return False
        try:
            return any(
                self._validator.validate(variant, dict(params), signature)
                for url in urls
                for variant in url_variants(url)
            )
        except UnicodeError:  # a value no request Twilio signed could hold
            return False
