"""The call list's filters as query parameters (ElevenLabs' names where it has one), checked and
made into the data layer's `CallFilters`; the list, its CSV export and analytics share them.

A value the service does not know is refused with a 422 naming it and what is allowed, and
counted (`velox_rejected_queries`), never silently ignored: a filter that matched nothing because
of a typo would look like an empty result. Enumerations take one value, repeated parameters or
commas (`status=done,failed`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status

from app.analysis.post_call import SENTIMENTS
from app.api.errors import api_error
from app.db.call_search import CallFilters, SortDirection
from app.db.search_text import InvalidSearchError, SearchTerm, parse_search
from app.observability.metrics import REJECTED_QUERIES
from campaigns.outcomes import Outcome

CHANNELS = ("twilio", "sip", "websocket")
DIRECTIONS = ("inbound", "outbound")
STATUSES = ("initiated", "in-progress", "done", "failed")
VERDICTS = ("success", "failure", "unknown")
OUTCOMES = tuple(outcome.value for outcome in Outcome)
# Whole Unix seconds up to the last second of year 9999, as Python's datetime can hold them.
MAX_UNIX_SECS = 253_402_300_799
MAX_DURATION_SECS = 10_000_000
# Formatting people type inside phone numbers, dropped before matching the stored E.164 form.
_NUMBER_FORMATTING = re.compile(r"[\s().-]")
_PHONE_NUMBER = re.compile(r"\+?[0-9]{3,20}")


def rejected(reason: str, message: str) -> HTTPException:
    """A 422 for a query the service cannot run as asked, counted by `reason`."""
    REJECTED_QUERIES.labels(reason=reason).inc()
    return api_error(status.HTTP_422_UNPROCESSABLE_CONTENT, reason, message)


def _echo(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:60] + "…")


def choices(name: str, given: list[str] | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The values of a repeatable, comma-separable enumeration, each checked against `allowed`."""
    values = tuple(
        dict.fromkeys(v.strip() for item in given or () for v in item.split(",") if v.strip())
    )
    for value in values:
        if value not in allowed:
            raise rejected(
                "unknown_filter_value",
                f"{name}: {_echo(value)} is not a value it takes; one of {', '.join(allowed)}",
            )
    return values


def unix_time(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def time_range(after: int | None, before: int | None) -> tuple[datetime | None, datetime | None]:
    """`call_start_after_unix` (inclusive) to `call_start_before_unix` (exclusive), checked."""
    if after is not None and before is not None and after >= before:
        raise rejected(
            "invalid_range",
            f"call_start_after_unix ({after}) must be before call_start_before_unix ({before})",
        )
    return unix_time(after), unix_time(before)


def _phone_number(given: str | None) -> str | None:
    if given is None or not given.strip():
        return None
    number = _NUMBER_FORMATTING.sub("", given)
    if not _PHONE_NUMBER.fullmatch(number):
        raise rejected(
            "invalid_phone_number",
            f"phone_number: {_echo(given)} is not a phone number; give its digits, with a "
            "leading + for E.164 (+15550001111)",
        )
    return number


def _search(given: str | None) -> tuple[SearchTerm, ...]:
    if given is None:
        return ()
    try:
        return parse_search(given)
    except InvalidSearchError as error:
        raise rejected(error.reason, str(error)) from error


AgentId = Annotated[str | None, Query(description="Only this agent's calls.")]
CampaignId = Annotated[str | None, Query(description="Only the calls of this campaign's dials.")]
Channel = Annotated[
    list[str] | None, Query(description=f"Channels: {', '.join(CHANNELS)} (repeat or comma).")
]
Direction = Annotated[list[str] | None, Query(description=f"{' or '.join(DIRECTIONS)}.")]
StartAfter = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_UNIX_SECS,
        description="Calls that started at or after this Unix time (seconds).",
    ),
]
StartBefore = Annotated[
    int | None,
    Query(ge=0, le=MAX_UNIX_SECS, description="Calls that started before this Unix time."),
]


def call_filters(
    agent_id: AgentId = None,
    campaign_id: CampaignId = None,
    call_successful: Annotated[
        list[str] | None,
        Query(description=f"The analysis' verdict: {', '.join(VERDICTS)} (unknown: none yet)."),
    ] = None,
    call_start_after_unix: StartAfter = None,
    call_start_before_unix: StartBefore = None,
    call_duration_min_secs: Annotated[
        int | None, Query(ge=0, le=MAX_DURATION_SECS, description="At least this long (s).")
    ] = None,
    call_duration_max_secs: Annotated[
        int | None, Query(ge=0, le=MAX_DURATION_SECS, description="At most this long (s).")
    ] = None,
    channel: Channel = None,
    direction: Direction = None,
    status: Annotated[list[str] | None, Query(description=f"{', '.join(STATUSES)}.")] = None,
    outcome: Annotated[
        list[str] | None,
        Query(description=f"The dial's or else the analysis' outcome: {', '.join(OUTCOMES)}."),
    ] = None,
    sentiment: Annotated[list[str] | None, Query(description=f"{', '.join(SENTIMENTS)}.")] = None,
    phone_number: Annotated[
        str | None, Query(description="The caller's or the called number (E.164), exactly.")
    ] = None,
    interrupted: Annotated[
        bool | None,
        Query(description="true: the caller cut the agent off at least once; false: never."),
    ] = None,
    search: Annotated[
        str | None,
        Query(
            description='Words in the transcript or the summary (all of them), "a phrase", '
            "or a prefix* (3 letters or more); no other query syntax."
        ),
    ] = None,
) -> CallFilters:
    """The filters of a call list or export, each checked (422 naming the one at fault)."""
    started_from, started_before = time_range(call_start_after_unix, call_start_before_unix)
    if (
        call_duration_min_secs is not None
        and call_duration_max_secs is not None
        and call_duration_min_secs > call_duration_max_secs
    ):
        raise rejected(
            "invalid_range",
            f"call_duration_min_secs ({call_duration_min_secs}) is more than "
            f"call_duration_max_secs ({call_duration_max_secs})",
        )
    return CallFilters(
        agent_id=agent_id or None,
        campaign_id=campaign_id or None,
        channels=choices("channel", channel, CHANNELS),
        directions=choices("direction", direction, DIRECTIONS),
        statuses=choices("status", status, STATUSES),
        outcomes=choices("outcome", outcome, OUTCOMES),
        sentiments=choices("sentiment", sentiment, SENTIMENTS),
        call_successful=choices("call_successful", call_successful, VERDICTS),
        started_from=started_from,
        started_before=started_before,
        min_duration_secs=call_duration_min_secs,
        max_duration_secs=call_duration_max_secs,
        phone_number=_phone_number(phone_number),
        interrupted=interrupted,
        search=_search(search),
    )


def sort_direction(
    sort_direction: Annotated[
        str | None,
        Query(description="By start time: desc (newest first, the default) or asc."),
    ] = None,
) -> SortDirection:
    if sort_direction in (None, "", "desc"):
        return "desc"
    if sort_direction == "asc":
        return "asc"
    raise rejected(
        "unknown_filter_value",
        f"sort_direction: {_echo(sort_direction)} is not a value it takes; asc or desc",
    )


CallFiltersDep = Annotated[CallFilters, Depends(call_filters)]
SortDirectionDep = Annotated[SortDirection, Depends(sort_direction)]
