"""Importing a campaign's leads from a CSV file: the good rows stored, the bad ones reported.

The file is read as a stream (a spool file or any binary file object) and stored in batches in
one transaction; a row that cannot be read is reported by line and reason and the rest go on.
Numbers already in the campaign are skipped, and so is every new number past the campaign's cap.
A row's `owner_email` gives the lead to that field agent; an address that is not one of the
organization's field agents makes the row a bad row.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from app.db import campaigns as campaign_queries
from app.db import field_leads
from app.db.campaigns import NewLead
from app.db.session import Database
from app.outbound.campaign_settings import settings_of
from campaigns.leads_csv import BadRow, Lead, read_leads
from campaigns.states import CampaignState

# Bad rows kept for the answer; the count covers them all.
MAX_REPORTED_BAD_ROWS = 1000


class CampaignNotFoundError(LookupError):
    pass


class CampaignClosedError(ValueError):
    """A finished or cancelled campaign takes no more leads."""


@dataclass(slots=True)
class LeadImport:
    imported: int = 0
    duplicates_skipped: int = 0
    rejected: int = 0
    over_cap: int = 0
    # The first `MAX_REPORTED_BAD_ROWS` rows that could not be read, in file order.
    bad_rows: list[BadRow] = field(default_factory=list)


def import_leads(
    database: Database,
    organization_id: str,
    campaign_id: str,
    binary: IO[bytes],
    max_leads: int,
) -> LeadImport:
    """Store the file's leads in the campaign (blocking). Raises `CampaignNotFoundError`,
    `CampaignClosedError`, or `LeadsFileError` when the file as a whole cannot be read (no
    phone number column, say)."""
    result = LeadImport()
    offered = 0
    with database.session() as session:
        campaign = campaign_queries.get_campaign(session, organization_id, campaign_id)
        if campaign is None:
            raise CampaignNotFoundError(campaign_id)
        if CampaignState(campaign.state).is_terminal:
            raise CampaignClosedError(f"a {campaign.state} campaign takes no more leads")
        region = settings_of(campaign).default_region
        owners = field_leads.field_agents_by_email(session, organization_id)

        def good_rows() -> Iterator[NewLead]:
            nonlocal offered
            for row in read_leads(_lines(binary), default_region=region):
                if (
                    isinstance(row, Lead)
                    and row.owner_email is not None
                    and row.owner_email not in owners
                ):
                    row = BadRow(
                        row.line,
                        f"owner_email {row.owner_email!r}: no field agent with this address in "
                        "the organization",
                    )
                if isinstance(row, Lead):
                    offered += 1
                    owner = owners[row.owner_email] if row.owner_email is not None else None
                    yield new_lead(row, owner)
                else:
                    result.rejected += 1
                    if len(result.bad_rows) < MAX_REPORTED_BAD_ROWS:
                        result.bad_rows.append(row)

        added = campaign_queries.add_leads(session, campaign, good_rows(), max_leads)
    result.imported = added.inserted
    result.over_cap = added.over_cap
    result.duplicates_skipped = offered - added.inserted - added.over_cap
    return result


def new_lead(lead: Lead, owner_user_id: str | None = None) -> NewLead:
    """The row to store for a lead read from a file; its name, if any, becomes `{{name}}`."""
    variables = dict(lead.variables)
    if lead.name:
        variables.setdefault("name", lead.name)
    return NewLead(lead.phone_number, lead.time_zone, variables, lead.line, owner_user_id)


def _lines(binary: IO[bytes]) -> Iterator[str]:
    """The file's text lines, decoded as UTF-8 (a byte the file cannot be read as is replaced,
    and the row it is in then fails its number check rather than the whole upload)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in iter(lambda: binary.read(64 * 1024), b""):
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
