import json
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.analysis.post_call import (
    TRANSCRIPT_MAX_CHARS,
    AnalysisRequest,
    InvalidAnalysisReplyError,
    TranscriptLine,
    analysis_messages,
    apply_rules,
    parse_reply,
    reply_schema,
    without_model,
)
from app.config.agent import AgentConfig
from campaigns.outcomes import Outcome

pytestmark = pytest.mark.unit

CONFIG = AgentConfig.model_validate(
    {
        "name": "Sam from Acme Dental",
        "platform_settings": {
            "data_collection": {
                "appointment_day": {"type": "string", "description": "the day booked"},
                "party_size": {"type": "integer", "description": "how many people come"},
                "is_new_patient": {"type": "boolean", "description": "a first visit"},
            },
            "evaluation": {
                "criteria": [
                    {
                        "id": "booked",
                        "name": "Booked",
                        "conversation_goal_prompt": "An appointment was booked.",
                    }
                ]
            },
        },
    }
)


def request(*lines: tuple[str, str], answered_by: str | None = None) -> AnalysisRequest:
    return AnalysisRequest(
        agent_name=CONFIG.name,
        direction="outbound",
        duration_secs=42.4,
        lines=tuple(TranscriptLine(role, text) for role, text in lines),
        answered_by=answered_by,
        config=CONFIG,
    )


def test_the_prompt_names_the_outcomes_fields_and_criteria_and_carries_the_transcript() -> None:
    system, transcript = analysis_messages(
        request(("agent", "Hi, this is Sam."), ("user", "Book me in for Tuesday."))
    )
    assert system.role == "system"
    assert '"meeting_booked"' in system.content
    assert '"do_not_call"' in system.content
    assert '"party_size" (integer): how many people come' in system.content
    assert '"booked": An appointment was booked.' in system.content
    assert "Sam from Acme Dental" in system.content
    assert transcript.content.splitlines() == [
        "Transcript of a outbound call lasting 42 seconds:",
        "Agent: Hi, this is Sam.",
        "Caller: Book me in for Tuesday.",
    ]


def test_a_long_transcript_keeps_its_start_and_end() -> None:
    lines = [("user" if n % 2 else "agent", f"line {n} " + "word " * 40) for n in range(60)]
    (_, transcript) = analysis_messages(request(*lines))
    assert "(the middle of the call is left out)" in transcript.content
    assert "Agent: line 0 " in transcript.content
    assert "Caller: line 59 " in transcript.content
    assert "line 30 " not in transcript.content
    assert len(transcript.content) <= TRANSCRIPT_MAX_CHARS + 200


def test_the_schema_asks_for_every_field_and_criterion() -> None:
    schema = reply_schema(CONFIG)
    assert schema["required"] == [
        "summary",
        "title",
        "sentiment",
        "outcome",
        "call_successful",
        "call_back_at",
        "data",
        "criteria",
    ]
    assert schema["properties"]["data"]["properties"]["party_size"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}]
    }
    assert "voicemail" not in schema["properties"]["outcome"]["enum"]
    assert reply_schema(AgentConfig())["required"][-1] == "call_back_at"


# 10:30 on Wednesday 6 January 2027 in Paris.
STARTED_IN_PARIS = datetime(2027, 1, 6, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))


def test_the_prompt_says_when_the_call_began_in_the_persons_zone() -> None:
    asked = replace(request(("user", "Call me tomorrow.")), started_at=STARTED_IN_PARIS)
    system, _ = analysis_messages(asked)
    assert "Wednesday 06 January 2027 at 10:30, Europe/Paris time" in system.content


@pytest.mark.parametrize(
    ("said", "outcome", "expected"),
    [
        ("2027-01-07T15:00", "call_back", datetime(2027, 1, 7, 14, 0, tzinfo=UTC)),
        (None, "call_back", None),
        ("2027-01-07T15:00", "interested", None),  # only a call back has a time
    ],
)
def test_a_call_back_time_is_read_in_the_calls_zone(
    said: str | None, outcome: str, expected: datetime | None
) -> None:
    reply = {"summary": "Call back.", "outcome": outcome, "call_back_at": said}
    analysis = parse_reply(json.dumps(reply), CONFIG, started_at=STARTED_IN_PARIS)
    assert analysis.call_back_at == expected
    assert "call_back_at" not in analysis.invalid


@pytest.mark.parametrize(
    "said", ["2027-01-06T09:00", "2028-02-01T09:00", "tomorrow at 3", "2027-02-30T10:00", 15]
)
def test_a_call_back_time_before_the_call_far_ahead_or_unreadable_is_dropped_and_named(
    said: object,
) -> None:
    reply = {"summary": "Call back.", "outcome": "call_back", "call_back_at": said}
    analysis = parse_reply(json.dumps(reply), CONFIG, started_at=STARTED_IN_PARIS)
    assert (analysis.outcome, analysis.call_back_at) == (Outcome.CALL_BACK, None)
    assert "call_back_at" in analysis.invalid


def test_a_good_reply_is_read_value_by_value() -> None:
    reply = {
        "summary": "The caller booked a cleaning.",
        "title": "Cleaning booked",
        "sentiment": "Positive",
        "outcome": "meeting booked",
        "call_successful": "success",
        "data": {"appointment_day": "Tuesday", "party_size": "2", "is_new_patient": "yes"},
        "criteria": {"booked": {"result": "success", "rationale": "Tuesday 10am was set."}},
    }
    analysis = parse_reply("Here you go:\n```json\n" + json.dumps(reply) + "\n```", CONFIG)
    assert analysis.outcome is Outcome.MEETING_BOOKED
    assert analysis.sentiment == "positive"
    assert analysis.data == {"appointment_day": "Tuesday", "party_size": 2, "is_new_patient": True}
    assert analysis.criteria == {
        "booked": {"result": "success", "rationale": "Tuesday 10am was set."}
    }
    assert analysis.invalid == []


def test_wrong_values_become_unknown_and_are_named_without_losing_the_rest() -> None:
    reply = {
        "summary": "Asked about prices.",
        "sentiment": "ecstatic",
        "outcome": "sold_a_boat",
        "call_successful": "success",
        "data": {"party_size": 2.5, "is_new_patient": "perhaps"},
        "criteria": {"booked": "no"},
    }
    analysis = parse_reply(json.dumps(reply), CONFIG)
    assert analysis.summary == "Asked about prices."
    assert (analysis.sentiment, analysis.outcome) == ("neutral", Outcome.COMPLETED)
    assert analysis.data == {"appointment_day": None, "party_size": None, "is_new_patient": None}
    assert analysis.criteria["booked"]["result"] == "unknown"
    assert analysis.invalid == [
        "criteria.booked",
        "data.is_new_patient",
        "data.party_size",
        "outcome",
        "sentiment",
        "title",
    ]


def test_a_raw_newline_inside_a_string_is_read() -> None:
    analysis = parse_reply('{"summary": "Booked.\nThanks", "outcome": "meeting_booked"}', CONFIG)
    assert (analysis.summary, analysis.outcome) == ("Booked. Thanks", Outcome.MEETING_BOOKED)


def test_a_number_json_cannot_store_is_no_value() -> None:
    reply = {"summary": "x", "data": {"party_size": 1e999}}
    analysis = parse_reply(json.dumps(reply).replace("Infinity", "1e999"), CONFIG)
    assert analysis.data["party_size"] is None
    assert "data.party_size" in analysis.invalid


def test_a_very_long_line_is_cut_not_dropped() -> None:
    (_, transcript) = analysis_messages(request(("user", "x" * 5000)))
    assert "Caller: xxx" in transcript.content
    assert len(transcript.content) < 1000


@pytest.mark.parametrize("text", ["I think it went well.", "{not json}", "[1, 2]"])
def test_a_reply_that_is_no_json_object_is_refused(text: str) -> None:
    with pytest.raises(InvalidAnalysisReplyError):
        parse_reply(text, CONFIG)


def test_an_answering_machine_needs_no_model() -> None:
    machine = without_model(
        request(("user", "Leave a message after the tone."), answered_by="machine_start"),
        voicemail_left=False,
    )
    assert machine is not None
    assert machine.outcome is Outcome.ANSWERED_BY_MACHINE
    assert machine.call_successful == "unknown"
    # Twilio's verdict decides, not the transcript.
    left = without_model(request(answered_by="machine_end_beep"), voicemail_left=True)
    assert left is not None
    assert left.outcome is Outcome.VOICEMAIL
    assert without_model(request(("user", "Hello?")), voicemail_left=False) is None


def test_silence_on_the_line_needs_no_model() -> None:
    silent = without_model(request(("agent", "Hello? Anyone there?")), voicemail_left=False)
    assert silent is not None
    assert silent.outcome is Outcome.COMPLETED
    assert silent.data == {"appointment_day": None, "party_size": None, "is_new_patient": None}
    assert silent.criteria["booked"]["result"] == "unknown"


def test_a_remove_me_overrules_the_model() -> None:
    call = request(("agent", "Do you have a minute?"), ("user", "No. Stop calling me."))
    analysis = parse_reply(json.dumps({"summary": "x", "outcome": "not_interested"}), CONFIG)
    assert apply_rules(call, analysis) == ["asked_not_to_be_called"]
    assert analysis.outcome is Outcome.DO_NOT_CALL
    # The agent saying it does not count.
    polite = request(("agent", "We won't call you again."), ("user", "Thanks, bye."))
    kept = parse_reply(json.dumps({"summary": "x", "outcome": "not_interested"}), CONFIG)
    assert apply_rules(polite, kept) == []
    assert kept.outcome is Outcome.NOT_INTERESTED
