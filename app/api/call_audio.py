"""A finished call's recording, a reviewer's feedback, and deleting a call (ElevenLabs' paths
under `/v1/convai/conversations/{id}`).

The recording is a stereo MP3 (left: the caller; right: what the caller heard), served with
HTTP Range support so a browser's player can seek. Deleting a call deletes its recording too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import OrganizationDep, PrincipalDep, SessionDep, audit
from app.api.errors import api_error, not_found
from app.api.openapi import error_responses
from app.calls.recording_peaks import UnreadableRecordingError, peaks_path, recording_peaks
from app.db import call_review
from app.observability.metrics import REGISTRY

router = APIRouter(prefix="/v1/convai/conversations", tags=["conversations"])

_RANGE = re.compile(r"^(\d*)-(\d*)$")
REJECTED_RANGES = Counter(
    "velox_rejected_audio_ranges",
    "Recording requests refused for a malformed or unsatisfiable Range header",
    ["reason"],
    registry=REGISTRY,
)
RECORDINGS_UNREADABLE = Counter(
    "velox_unreadable_recordings",
    "Recordings whose peaks were asked for but which could not be decoded",
    registry=REGISTRY,
)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feedback: Literal["like", "dislike"]


def _recordings_dir(request: Request) -> Path:
    directory: Path = request.app.state.settings.resolved_recordings_dir()
    return directory


def _check_range(header: str | None, size: int) -> None:
    """A Range this file cannot answer is a 416 with why (counted), not a silent full body."""
    if header is None:
        return
    unit, _, ranges = header.partition("=")
    for part in ranges.split(","):
        match = _RANGE.match(part.strip()) if unit.strip() == "bytes" else None
        if match is None or match.groups() == ("", ""):
            REJECTED_RANGES.labels(reason="malformed").inc()
            raise api_error(
                status.HTTP_416_RANGE_NOT_SATISFIABLE,
                "invalid_range",
                f"Range must look like bytes=START-END (got {header[:80]!r})",
            )
        start, end = match.groups()
        if start and (int(start) >= size or (end and int(end) < int(start))):
            REJECTED_RANGES.labels(reason="out_of_bounds").inc()
            error = api_error(
                status.HTTP_416_RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                f"the recording has {size} bytes; {header[:80]!r} asks for none of them",
            )
            error.headers = {"Content-Range": f"bytes */{size}"}
            raise error


@router.get(
    "/{conversation_id}/audio",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/mpeg": {}}, "description": "the recording (MP3, stereo)"},
        206: {"content": {"audio/mpeg": {}}, "description": "the requested byte range"},
        **error_responses(404, 416),
    },
)
def get_audio(
    conversation_id: str, request: Request, session: SessionDep, organization: OrganizationDep
) -> FileResponse:
    """The call's recording: left channel the caller, right channel what the caller heard."""
    path = _recording_file(request, session, organization.id, conversation_id)
    _check_range(request.headers.get("range"), path.stat().st_size)
    return FileResponse(path, media_type="audio/mpeg", filename=f"{conversation_id}.mp3")


def _recording_file(
    request: Request, session: SessionDep, organization_id: str, conversation_id: str
) -> Path:
    """The call's recording file, or the 404 that says why there is none."""
    found = call_review.call_audio(session, organization_id, conversation_id)
    if found is None:
        raise not_found("conversation", conversation_id)
    if found.recording_path is None:
        raise api_error(
            status.HTTP_404_NOT_FOUND,
            "audio_not_found",
            "this conversation has no recording (its agent does not record calls, or it was "
            "not asked to)"
            if found.status in ("done", "failed")
            else "this conversation is still in progress; its recording is ready when it ends",
        )
    path = _recordings_dir(request) / found.recording_path
    if not path.is_file():
        raise api_error(
            status.HTTP_404_NOT_FOUND,
            "audio_not_found",
            "the recording file is missing from the recordings folder",
        )
    return path


class RecordingPeaksResponse(BaseModel):
    duration_secs: float = Field(description="the recording's length")
    peaks_per_second: float = Field(description="how many peaks each channel has per second")
    channels: list[list[float]] = Field(
        description="[caller (left), what the caller heard (right)]: each slice's largest "
        "absolute sample, 0 to 1, in time order"
    )


@router.get("/{conversation_id}/audio/peaks", responses=error_responses(404, 422))
def get_audio_peaks(
    conversation_id: str, request: Request, session: SessionDep, organization: OrganizationDep
) -> RecordingPeaksResponse:
    """The recording's waveform per channel, for drawing it without decoding the MP3 (computed
    on the first request and kept beside the recording)."""
    path = _recording_file(request, session, organization.id, conversation_id)
    try:
        peaks = recording_peaks(path)
    except UnreadableRecordingError as error:
        RECORDINGS_UNREADABLE.inc()
        raise api_error(
            status.HTTP_422_UNPROCESSABLE_ENTITY, "unreadable_recording", str(error)
        ) from error
    return RecordingPeaksResponse(
        duration_secs=peaks.duration_secs,
        peaks_per_second=peaks.peaks_per_second,
        channels=list(peaks.channels),
    )


@router.post("/{conversation_id}/feedback", responses=error_responses(404))
def send_feedback(
    conversation_id: str, body: FeedbackRequest, session: SessionDep, principal: PrincipalDep
) -> dict[str, str]:
    """A reviewer's verdict on the call (`like` or `dislike`); a later one replaces it."""
    if not call_review.set_feedback(
        session, principal.organization.id, conversation_id, body.feedback, principal.actor
    ):
        raise not_found("conversation", conversation_id)
    return {}


@router.delete("/{conversation_id}", responses=error_responses(404, 409))
def delete_conversation(
    conversation_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, str]:
    """Delete the call with its transcript, events, analysis and recording."""
    found = call_review.call_audio(session, principal.organization.id, conversation_id)
    if found is None:
        raise not_found("conversation", conversation_id)
    if found.status not in ("done", "failed"):
        raise api_error(
            status.HTTP_409_CONFLICT,
            "call_in_progress",
            "a call in progress cannot be deleted; end it first, or delete it once it has ended",
        )
    call_review.delete_call(session, principal.organization.id, conversation_id)
    audit(session, principal, "deleted", "conversation", conversation_id)
    if found.recording_path is not None:
        session.flush()  # the row is gone in this transaction before its file is
        recording = _recordings_dir(request) / found.recording_path
        recording.unlink(missing_ok=True)
        peaks_path(recording).unlink(missing_ok=True)
    return {}
