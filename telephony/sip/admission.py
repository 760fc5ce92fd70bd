"""Who may call a SIP-trunk number in (its `inbound_trunk_config`): the source address (CIDR),
the digest credentials (401 challenge, 403 when wrong) and the caller's number.

Each refusal is counted (`velox_sip_refusals`) and told to the caller precisely.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.config.sip_trunks import InboundTrunk
from app.observability.metrics import SIP_REFUSALS
from telephony.sip.digest import DigestChecker, Verdict
from telephony.sip.user_agent import IncomingCall


@dataclass(frozen=True)
class Refusal:
    """The answer to a caller the trunk does not admit."""

    status: int
    reason: str  # what it is counted under
    phrase: str  # the reason phrase sent
    headers: tuple[tuple[str, str], ...] = ()


def admit(
    trunk: InboundTrunk, incoming: IncomingCall, checker: DigestChecker, now: float
) -> Refusal | None:
    """None when the call may go on; else the refusal to send (and count)."""
    refusal = _refusal(trunk, incoming, checker, now)
    if refusal is not None and refusal.status != 401:
        SIP_REFUSALS.labels(reason=refusal.reason).inc()
    elif refusal is not None and incoming.authorization:
        SIP_REFUSALS.labels(reason=refusal.reason).inc()  # a challenge that was answered badly
    return refusal


def _refusal(
    trunk: InboundTrunk, incoming: IncomingCall, checker: DigestChecker, now: float
) -> Refusal | None:
    if not trunk.address_allowed(incoming.source[0]):
        return Refusal(403, "address_not_allowed", "Address not allowed for this number")
    credentials = trunk.credentials
    if credentials is not None:
        verdict = checker.check(
            incoming.authorization, "INVITE", credentials.username, credentials.password, now
        )
        if verdict is Verdict.WRONG:
            return Refusal(403, "wrong_credentials", "Wrong credentials")
        if verdict is not Verdict.ACCEPTED:
            stale = verdict is Verdict.STALE
            return Refusal(
                401,
                "stale_nonce" if stale else "no_credentials",
                "Unauthorized",
                (("WWW-Authenticate", checker.challenge(now, stale=stale)),),
            )
    if not trunk.number_allowed(incoming.caller):
        return Refusal(403, "number_not_allowed", "Caller number not allowed for this number")
    return None
