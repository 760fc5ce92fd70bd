"""A campaign's life cycle (draft → scheduled → running ⇄ paused → completed or cancelled)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class CampaignState(enum.StrEnum):
    """Where a campaign is in its life cycle."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the campaign can no longer change state."""
        return not ALLOWED_TRANSITIONS[self]


ALLOWED_TRANSITIONS: dict[CampaignState, frozenset[CampaignState]] = {
    # Scheduling freezes the settings; back to draft to edit them.
    CampaignState.DRAFT: frozenset({CampaignState.SCHEDULED, CampaignState.CANCELLED}),
    CampaignState.SCHEDULED: frozenset(
        {CampaignState.DRAFT, CampaignState.RUNNING, CampaignState.CANCELLED}
    ),
    CampaignState.RUNNING: frozenset(
        {CampaignState.PAUSED, CampaignState.COMPLETED, CampaignState.CANCELLED}
    ),
    # A paused campaign completes when its end date passes while it is paused.
    CampaignState.PAUSED: frozenset(
        {CampaignState.RUNNING, CampaignState.COMPLETED, CampaignState.CANCELLED}
    ),
    CampaignState.COMPLETED: frozenset(),
    CampaignState.CANCELLED: frozenset(),
}


class InvalidTransitionError(ValueError):
    """A state change the life cycle does not allow; names the states that are allowed."""

    def __init__(self, current: CampaignState, target: CampaignState) -> None:
        allowed = sorted(ALLOWED_TRANSITIONS[current])
        options = ", ".join(allowed) if allowed else f"none: {current} is final"
        super().__init__(f"a {current} campaign cannot become {target}; allowed: {options}")
        self.current = current
        self.target = target
        self.allowed = frozenset(allowed)


def transition(current: CampaignState, target: CampaignState) -> CampaignState:
    """Return `target` if a campaign in `current` may move there, else raise."""
    if target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransitionError(current, target)
    return target


def reopen(current: CampaignState) -> CampaignState:
    """A completed campaign runs again to retry the leads it failed to reach (ElevenLabs' batch
    "retry"); this is the one way out of `completed`. A cancelled campaign stays cancelled."""
    if current is not CampaignState.COMPLETED:
        raise InvalidTransitionError(current, CampaignState.RUNNING)
    return CampaignState.RUNNING


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """Counts of the campaign's leads that still have work: due or waiting, and on a call now."""

    leads_pending: int
    attempts_in_progress: int


def is_complete(
    state: CampaignState, progress: CampaignProgress, now: datetime, ends_at: datetime | None
) -> bool:
    """Whether a running or paused campaign is finished and should become completed.

    It is when no call is in progress and either no lead has a pending attempt or the
    campaign's end has passed (pending leads are then left uncalled). A paused campaign with
    leads left is not complete before its end: the manager may still resume it.
    """
    if state not in (CampaignState.RUNNING, CampaignState.PAUSED):
        return False
    if progress.attempts_in_progress > 0:
        return False
    ended = ends_at is not None and now >= ends_at
    return ended or progress.leads_pending == 0
