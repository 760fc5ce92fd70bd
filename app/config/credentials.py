"""Organizations' keys for cloud providers, encrypted at rest.

The encryption key is derived from the service's secret key (`VELOX_SECRET_KEY`, or the key file
created under the data directory), so one secret protects signed URLs and stored keys alike. A key
is decrypted only when a call needs it; the API never returns one, only that it is set.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config.redaction import remember_secret

# Providers whose keys an organization may store (the registry's cloud providers).
CLOUD_PROVIDERS = ("deepgram", "groq", "openai", "elevenlabs", "cartesia")


class CredentialError(Exception):
    """A stored key could not be decrypted: the service's secret key changed since it was set."""


class CredentialBox:
    """Encrypts and decrypts provider keys with a key derived from the service secret."""

    def __init__(self, service_secret: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"velox provider credentials"
        ).derive(service_secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, api_key: str) -> str:
        remember_secret(api_key)
        return self._fernet.encrypt(api_key.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plain key, which this process redacts from then on wherever it appears."""
        try:
            plain = self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as error:
            raise CredentialError(
                "a stored provider key cannot be decrypted: VELOX_SECRET_KEY changed since it"
                " was set; set the key again"
            ) from error
        remember_secret(plain)
        return plain
