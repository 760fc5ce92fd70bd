"""Phone numbers an organization answers on, and which agent answers each."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.agents import get_agent
from app.db.models import PhoneNumber, new_id

PhoneProvider = Literal["twilio", "sip_trunk"]


class PhoneNumberTakenError(ValueError):
    """The number is already registered (numbers are unique across organizations). Its message
    is the same whichever organization holds it, so a refusal never tells a tenant which
    numbers other organizations have."""


class UnknownAgentError(LookupError):
    """The agent to assign does not exist in this organization."""


def _require_agent(session: Session, organization_id: str, agent_id: str | None) -> None:
    if agent_id is not None and get_agent(session, organization_id, agent_id) is None:
        raise UnknownAgentError(f"agent {agent_id!r} not found")


def create_phone_number(
    session: Session,
    organization_id: str,
    *,
    phone_number: str,
    label: str,
    provider: PhoneProvider,
    agent_id: str | None = None,
    inbound_trunk: dict[str, Any] | None = None,
    outbound_trunk: dict[str, Any] | None = None,
) -> PhoneNumber:
    """Register a number; raises `PhoneNumberTakenError` or `UnknownAgentError`."""
    if find_by_number(session, phone_number) is not None:
        raise PhoneNumberTakenError(
            f"{phone_number} cannot be registered: it is in use. If the number is yours and in "
            "this organization's list, update that entry; otherwise contact your administrator"
        )
    _require_agent(session, organization_id, agent_id)
    record = PhoneNumber(
        id=new_id("phnum"),
        organization_id=organization_id,
        phone_number=phone_number,
        label=label,
        provider=provider,
        agent_id=agent_id,
        inbound_trunk=inbound_trunk,
        outbound_trunk=outbound_trunk,
    )
    session.add(record)
    session.flush()
    return record


def list_phone_numbers(session: Session, organization_id: str) -> list[PhoneNumber]:
    query = select(PhoneNumber).where(PhoneNumber.organization_id == organization_id)
    return list(session.scalars(query.order_by(PhoneNumber.created_at, PhoneNumber.id)))


def get_phone_number(
    session: Session, organization_id: str, phone_number_id: str
) -> PhoneNumber | None:
    return session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.organization_id == organization_id, PhoneNumber.id == phone_number_id
        )
    )


def update_phone_number(
    session: Session,
    organization_id: str,
    phone_number_id: str,
    *,
    agent_id: str | None,
    label: str | None = None,
    assign_agent: bool = True,
    inbound_trunk: dict[str, Any] | None = None,
    outbound_trunk: dict[str, Any] | None = None,
) -> PhoneNumber | None:
    """Assign (or with None, unassign) the answering agent unless `assign_agent` is False, and
    replace the trunk configurations given; None if the number is not there."""
    record = get_phone_number(session, organization_id, phone_number_id)
    if record is None:
        return None
    if assign_agent:
        _require_agent(session, organization_id, agent_id)
        record.agent_id = agent_id
    if label is not None:
        record.label = label
    if inbound_trunk is not None:
        record.inbound_trunk = inbound_trunk
    if outbound_trunk is not None:
        record.outbound_trunk = outbound_trunk
    session.flush()
    return record


def delete_phone_number(session: Session, organization_id: str, phone_number_id: str) -> bool:
    record = get_phone_number(session, organization_id, phone_number_id)
    if record is None:
        return False
    session.delete(record)
    session.flush()
    return True


def find_by_number(session: Session, e164: str) -> PhoneNumber | None:
    """Find the registration of a dialled number, whichever organization holds it.

    Unscoped on purpose: an inbound call arrives with only the number dialled (on a request
    authenticated by the carrier's signature), and the number is what tells us the organization.
    """
    return session.scalar(select(PhoneNumber).where(PhoneNumber.phone_number == e164))
