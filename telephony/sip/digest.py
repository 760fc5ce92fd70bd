"""HTTP digest authentication as SIP uses it (RFC 3261 section 22, RFC 2617 / RFC 7616 with MD5):
challenges we send, credentials we check, and the credentials we answer a trunk's challenge with.

Sans-I/O. Our nonces carry their own issue time and an HMAC of it under the service's secret, so
any node of the service can check a nonce another issued, and no nonce has to be remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

REALM = "velox"
NONCE_LIFETIME_S = 300.0


class DigestError(ValueError):
    """A challenge or credentials that cannot be read or answered."""


def params_of(value: str) -> dict[str, str]:
    """The parameters of a `Digest a=b, c="d"` header value, names lowercased."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not a Digest header: {value[:40]!r}")
    params: dict[str, str] = {}
    i, text = 0, rest
    while i < len(text):
        while i < len(text) and text[i] in " ,\t":
            i += 1
        equals = text.find("=", i)
        if equals < 0:
            break
        name = text[i:equals].strip().lower()
        i = equals + 1
        if i < len(text) and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise DigestError("an unterminated quoted value")
            params[name] = text[i + 1 : end]
            i = end + 1
        else:
            end = text.find(",", i)
            end = len(text) if end < 0 else end
            params[name] = text[i:end].strip()
            i = end
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_response(
    *,
    username: str,
    password: str,
    realm: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str = "",
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The `response` value: MD5(HA1:nonce[:nc:cnonce:qop]:HA2) (RFC 2617 section 3.2.2)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def authorization(challenge: str, username: str, password: str, method: str, uri: str) -> str:
    """Our answer to a trunk's `WWW-Authenticate`/`Proxy-Authenticate` challenge (MD5 only)."""
    params = params_of(challenge)
    algorithm = params.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise DigestError(f"digest algorithm {algorithm} is not supported (MD5 only)")
    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    if not nonce:
        raise DigestError("the challenge has no nonce")
    offered = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if offered and "auth" not in offered:
        raise DigestError(f"qop {params['qop']} is not supported (auth only)")
    qop = "auth" if offered else ""
    nc, cnonce = ("00000001", secrets.token_hex(8)) if qop else ("", "")
    response = digest_response(
        username=username,
        password=password,
        realm=realm,
        method=method,
        uri=uri,
        nonce=nonce,
        qop=qop,
        nc=nc,
        cnonce=cnonce,
    )
    fields = [
        f'username="{username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        "algorithm=MD5",
    ]
    if qop:
        fields += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)


class Verdict(Enum):
    ACCEPTED = "accepted"
    MISSING = "missing"  # no credentials for our realm: challenge
    STALE = "stale"  # right shape, old or foreign nonce: challenge again, stale=true
    WRONG = "wrong"  # wrong username or password: refuse (403)


@dataclass(frozen=True)
class DigestChecker:
    """Issues challenges and checks credentials under `secret` (shared by the service's nodes)."""

    secret: bytes
    realm: str = REALM

    def _sign(self, issued: str) -> str:
        return hmac.new(self.secret, issued.encode(), hashlib.sha256).hexdigest()[:32]

    def nonce(self, now: float) -> str:
        issued = f"{int(now)}.{secrets.token_hex(4)}"
        return f"{issued}.{self._sign(issued)}"

    def _fresh(self, nonce: str, now: float) -> bool:
        issued, _, signature = nonce.rpartition(".")
        if not issued or not hmac.compare_digest(signature, self._sign(issued)):
            return False
        seconds = issued.split(".", 1)[0]
        return seconds.isdigit() and 0 <= now - int(seconds) <= NONCE_LIFETIME_S

    def challenge(self, now: float, *, stale: bool = False) -> str:
        """A `WWW-Authenticate` value."""
        stale_param = ", stale=true" if stale else ""
        return (
            f'Digest realm="{self.realm}", nonce="{self.nonce(now)}", algorithm=MD5, '
            f'qop="auth"{stale_param}'
        )

    def check(
        self,
        header: str | None,
        method: str,
        username: str,
        password: str,
        now: float,
    ) -> Verdict:
        """Whether the request's `Authorization` value proves `username`/`password`."""
        if not header:
            return Verdict.MISSING
        try:
            params = params_of(header)
        except DigestError:
            return Verdict.MISSING
        if params.get("realm") != self.realm:
            return Verdict.MISSING
        if params.get("algorithm", "MD5").upper() != "MD5":
            return Verdict.WRONG
        if not self._fresh(params.get("nonce", ""), now):
            return Verdict.STALE
        qop = params.get("qop", "")
        if qop not in ("", "auth"):
            return Verdict.WRONG
        expected = digest_response(
            username=username,
            password=password,
            realm=self.realm,
            method=method,
            uri=params.get("uri", ""),
            nonce=params["nonce"],
            qop=qop,
            nc=params.get("nc", ""),
            cnonce=params.get("cnonce", ""),
        )
        given = params.get("response", "")
        if params.get("username") != username or not hmac.compare_digest(given, expected):
            return Verdict.WRONG
        return Verdict.ACCEPTED
