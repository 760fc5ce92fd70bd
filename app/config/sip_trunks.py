"""A SIP-trunk number's trunk configurations, in ElevenLabs' shapes: who may call in
(`inbound_trunk_config`) and where its calls out go (`outbound_trunk_config`).

Passwords are encrypted at rest with the provider keys' box and never shown again: a stored
configuration says `has_auth_credentials` and the `username`; a change that names the username
without a password keeps the password stored before. What Velox cannot do yet is refused with a
clear error rather than ignored: `media_encryption: "required"` (no SRTP), a `tls` transport
(UDP and TCP only: TLS is for a front proxy, see the README), a codec other than PCMU or PCMA.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.config.credentials import CredentialBox

MediaEncryption = Literal["disabled", "allowed", "required"]
Transport = Literal["auto", "udp", "tcp", "tls"]
Codec = Literal["G722/8000", "PCMU/8000", "PCMA/8000"]
SUPPORTED_CODECS = ("PCMU/8000", "PCMA/8000")
HEADER_NAME = r"^[A-Za-z0-9.!%*_+`'~-]{1,64}$"


class TrunkConfigError(ValueError):
    """A trunk configuration Velox cannot honour; the message says what to change."""


class TrunkCredentials(BaseModel):
    """Digest credentials; `password` left out keeps the one stored."""

    model_config = ConfigDict(extra="ignore")

    username: str = Field(min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=1, max_length=256)


class InboundTrunkConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    allowed_addresses: list[str] | None = Field(default=None, max_length=100)
    allowed_numbers: list[str] | None = Field(default=None, max_length=1000)
    media_encryption: MediaEncryption | None = None
    credentials: TrunkCredentials | None = None
    remote_domains: list[str] | None = Field(default=None, max_length=100)
    attributes_to_headers: dict[str, str] | None = None

    @field_validator("allowed_addresses")
    @classmethod
    def _addresses(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        networks = []
        for address in value:
            try:
                networks.append(str(ipaddress.ip_network(address.strip(), strict=False)))
            except ValueError:
                raise ValueError(
                    f"{address!r} is neither an IP address nor a CIDR block (192.0.2.0/24)"
                ) from None
        return networks


class OutboundTrunkConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    address: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    transport: Transport | None = None
    media_encryption: MediaEncryption | None = None
    headers: dict[str, str] | None = None
    attributes_to_headers: dict[str, str] | None = None
    credentials: TrunkCredentials | None = None
    enabled_codecs: list[Codec] | None = None

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, header in (value or {}).items():
            if not re.match(HEADER_NAME, name) or any(c in header for c in "\r\n\0"):
                raise ValueError(f"header {name!r} is not a valid SIP header name and value")
        return value


def _refuse_unsupported(media_encryption: str | None, transport: str | None = None) -> None:
    if media_encryption == "required":
        raise TrunkConfigError(
            'media_encryption "required" needs SRTP, which Velox does not offer yet: use '
            '"disabled" or "allowed" (calls then run unencrypted RTP)'
        )
    if transport == "tls":
        raise TrunkConfigError(
            'transport "tls" is not supported: Velox speaks SIP over UDP and TCP; use "udp", '
            '"tcp" or "auto", and put a TLS front proxy (kamailio, see the README) before it'
        )


def _stored_credentials(
    credentials: TrunkCredentials | None, previous: dict[str, Any] | None, box: CredentialBox
) -> dict[str, Any]:
    if credentials is None:
        return {"username": None, "password_encrypted": None}
    if credentials.password is not None:
        encrypted: str | None = box.encrypt(credentials.password)
    elif previous and previous.get("username") == credentials.username:
        encrypted = previous.get("password_encrypted")
    else:
        encrypted = None
    if encrypted is None:
        raise TrunkConfigError(
            f"credentials for {credentials.username!r} need a password: none is stored for "
            "that username"
        )
    return {"username": credentials.username, "password_encrypted": encrypted}


def stored_inbound(
    config: InboundTrunkConfig, previous: dict[str, Any] | None, box: CredentialBox
) -> dict[str, Any]:
    """The configuration as stored (password encrypted, or kept from `previous`)."""
    _refuse_unsupported(config.media_encryption)
    return {
        "allowed_addresses": config.allowed_addresses or [],
        "allowed_numbers": config.allowed_numbers,
        "media_encryption": config.media_encryption or "disabled",
        "remote_domains": config.remote_domains,
        "attributes_to_headers": config.attributes_to_headers,
        **_stored_credentials(config.credentials, previous, box),
    }


def stored_outbound(
    config: OutboundTrunkConfig, previous: dict[str, Any] | None, box: CredentialBox
) -> dict[str, Any]:
    _refuse_unsupported(config.media_encryption, config.transport)
    if config.enabled_codecs and not set(config.enabled_codecs) & set(SUPPORTED_CODECS):
        raise TrunkConfigError(
            f"enabled_codecs offers none of {', '.join(SUPPORTED_CODECS)}: Velox speaks G.711 only"
        )
    return {
        "address": config.address,
        "transport": config.transport or "auto",
        "media_encryption": config.media_encryption or "disabled",
        "headers": config.headers,
        "attributes_to_headers": config.attributes_to_headers,
        "enabled_codecs": config.enabled_codecs,
        **_stored_credentials(config.credentials, previous, box),
    }


def shown(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored configuration as the API shows it: no password, only whether one is set."""
    if stored is None:
        return None
    view = {key: value for key, value in stored.items() if key != "password_encrypted"}
    view["has_auth_credentials"] = bool(stored.get("password_encrypted"))
    return view


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class InboundTrunk:
    """Who may call a number in, as a call checks it."""

    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_numbers: tuple[str, ...] = ()
    credentials: DigestCredentials | None = None

    def address_allowed(self, host: str) -> bool:
        if not self.allowed_networks:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.allowed_networks)

    def number_allowed(self, caller: str) -> bool:
        if not self.allowed_numbers:
            return True
        bare = caller.lstrip("+")
        return any(bare == allowed.lstrip("+") for allowed in self.allowed_numbers)


@dataclass(frozen=True, slots=True)
class OutboundTrunk:
    """Where a number's calls out go, as the dialer uses it."""

    host: str
    port: int
    headers: tuple[tuple[str, str], ...] = ()
    credentials: DigestCredentials | None = None
    codecs: tuple[str, ...] = SUPPORTED_CODECS
    transport: str = "UDP"  # or TCP


def _credentials(stored: dict[str, Any], box: CredentialBox) -> DigestCredentials | None:
    if not stored.get("password_encrypted") or not stored.get("username"):
        return None
    return DigestCredentials(stored["username"], box.decrypt(stored["password_encrypted"]))


def inbound_trunk(stored: dict[str, Any] | None, box: CredentialBox) -> InboundTrunk:
    """The stored inbound configuration, password decrypted (an empty one lets anyone in)."""
    if not stored:
        return InboundTrunk()
    return InboundTrunk(
        allowed_networks=tuple(
            ipaddress.ip_network(a, strict=False) for a in stored.get("allowed_addresses") or ()
        ),
        allowed_numbers=tuple(stored.get("allowed_numbers") or ()),
        credentials=_credentials(stored, box),
    )


def outbound_trunk(stored: dict[str, Any], box: CredentialBox) -> OutboundTrunk:
    """The stored outbound configuration, its address split into host and port (5060)."""
    address = str(stored["address"])
    host, port = address, 5060
    if address.startswith("["):  # [IPv6]:port
        host, _, rest = address[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 5060
    elif address.count(":") == 1:
        name, _, number = address.partition(":")
        if number.isdigit():
            host, port = name, int(number)
    codecs = tuple(
        c for c in stored.get("enabled_codecs") or SUPPORTED_CODECS if c in SUPPORTED_CODECS
    )
    return OutboundTrunk(
        host=host,
        port=port,
        headers=tuple((stored.get("headers") or {}).items()),
        credentials=_credentials(stored, box),
        codecs=codecs or SUPPORTED_CODECS,
        transport="TCP" if stored.get("transport") == "tcp" else "UDP",
    )
