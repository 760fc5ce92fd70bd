"""The offline language model's labelled cases: receptionist and sales questions over three
agents' prompts (judged by required and forbidden words), tool choices, and post-call outcomes.

A question's `required` is a list of groups: every group must be matched by one of its phrases.
`forbidden` phrases must all be absent. Phrases match whole words, case-insensitively, in the
reply with "$" and "," dropped (so "$95" and "95 dollars" both hold "95").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from campaigns.outcomes import Outcome

DENTAL = (
    "You are Ava, the receptionist of Brightsmile Dental. Answer in one or two short sentences, "
    "only from these facts. Hours: Monday to Friday 8 am to 6 pm, Saturday 9 am to 1 pm, closed "
    "on Sunday. Address: 12 Oak Street, Springfield. Prices: a cleaning costs 95 dollars, teeth "
    "whitening 250 dollars, a first exam for new patients 120 dollars. We accept Delta Dental "
    "insurance. Cancelling less than 24 hours before an appointment costs a 30 dollar fee. "
    "To book, ask for the caller's full name and preferred day."
)
INTERNET = (
    "You are Max, a sales agent for Velox Internet. Answer in one or two short sentences, only "
    "from these facts. Plans: Basic 50 Mbps for 30 dollars a month, Fast 300 Mbps for 50 "
    "dollars a month, Giga 1000 Mbps for 80 dollars a month. No plan has a data cap. "
    "Installation is free with a 12-month contract, otherwise 99 dollars. Our store is at "
    "200 Main Street, open Monday to Saturday 10 am to 7 pm, closed on Sunday. To sign up, ask "
    "for the caller's full name and service address."
)
GARAGE = (
    "You are Sam, the receptionist of Green Leaf Auto Repair. Answer in one or two short "
    "sentences, only from these facts. Hours: Monday to Friday 7 am to 5 pm, closed on "
    "Saturday and Sunday. Address: 88 River Road, Riverside. Prices: an oil change costs 49 "
    "dollars, a tire rotation 25 dollars, a brake inspection is free. We have no loaner cars. "
    "The earliest appointment is the next day, never the same day. To book, ask for the car's "
    "make and model."
)
AGENTS = {"dental": DENTAL, "internet": INTERNET, "garage": GARAGE}


@dataclass(frozen=True)
class Question:
    agent: str
    text: str
    required: list[tuple[str, ...]]
    forbidden: tuple[str, ...] = ()


NO = ("no", "not", "closed", "don't", "do not", "unfortunately", "sorry")
CLOSED = ("closed", "not open", "no")
FREE = ("free", "no charge", "not charge", "don't charge")

QUESTIONS = [
    Question(
        "dental",
        "Are you open on Saturday?",
        [("yes", "9")],
        ("closed on saturday", "not open", "6 pm"),
    ),
    Question("dental", "What time do you close on weekdays?", [("6",)], ("5 pm", "7 pm")),
    Question("dental", "Are you open on Sunday?", [CLOSED], ("yes",)),
    Question("dental", "How much does a cleaning cost?", [("95",)], ("250", "120")),
    Question("dental", "How much is teeth whitening?", [("250",)], ("95",)),
    Question("dental", "What is your address?", [("12",), ("oak",)]),
    Question("dental", "How much is a first exam for a new patient?", [("120",)], ("95",)),
    Question("dental", "Is there a fee if I cancel the same day?", [("30",)]),
    Question("dental", "I'd like to book an appointment.", [("name",)]),
    Question(
        "dental",
        "Do you take Delta Dental insurance?",
        [("yes", "accept", "we take")],
        ("don't", "do not", "not accept"),
    ),
    Question("internet", "How much is the Fast plan?", [("50",)], ("30", "80")),
    Question("internet", "What is your fastest plan?", [("giga", "1000")]),
    Question("internet", "What does your cheapest plan cost?", [("30",)], ("80",)),
    Question("internet", "Is there a data cap?", [("no", "unlimited")], ("data cap of",)),
    Question("internet", "How much does installation cost?", [("free", "99")]),
    Question("internet", "Where is your store?", [("200",), ("main",)]),
    Question(
        "internet",
        "Is your store open on Saturday?",
        [("yes", "10")],
        ("not open", "closed on saturday"),
    ),
    Question("internet", "Is the store open on Sunday?", [CLOSED], ("yes",)),
    Question("internet", "How fast is the Basic plan?", [("50",)], ("300", "1000")),
    Question("internet", "I want to sign up for the Fast plan.", [("name", "address")]),
    Question("garage", "How much is an oil change?", [("49",)], ("25",)),
    Question("garage", "Do you charge for a brake inspection?", [FREE], ("yes",)),
    Question("garage", "How much is a tire rotation?", [("25",)], ("49",)),
    Question("garage", "Are you open on Saturdays?", [CLOSED], ("yes",)),
    Question("garage", "What time do you open in the morning?", [("7",)], ("8 am", "9 am")),
    Question("garage", "Where are you located?", [("88",), ("river",)]),
    Question("garage", "Can I get a loaner car while mine is repaired?", [NO], ("yes",)),
    Question(
        "garage", "Can I bring my car in today?", [("tomorrow", "next day", "not", "earliest")]
    ),
    Question("garage", "I want to book an oil change.", [("make", "model")]),
    Question("garage", "What time do you close on Friday?", [("5",)], ("6 pm", "7 pm")),
]

# --- tool choice ----------------------------------------------------------------------------

TOOL_AGENT = DENTAL + (
    " When the caller has given their name and day, call book_appointment. When the caller asks "
    "for a person, call transfer_call. When the caller says goodbye, call end_call."
)
TRANSFER_NUMBER = "+14155550100"
TOOLS: list[dict[str, Any]] = [
    {
        "name": "end_call",
        "description": "End the call once the conversation is finished and you have said goodbye.",
        "parameters": {"type": "object", "properties": {}, "required": []},
    },
    {
        "name": "transfer_call",
        "description": (
            f"Transfer the caller to a human. Destinations: {TRANSFER_NUMBER} (front desk)"
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "phone_number": {"type": "string", "enum": [TRANSFER_NUMBER]},
                "reason": {"type": "string"},
            },
            "required": ["phone_number"],
        },
    },
    {
        "name": "book_appointment",
        "description": "Book a dental appointment for the caller.",
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "the caller's full name"},
                "day": {"type": "string", "description": "the day of the week"},
            },
            "required": ["name", "day"],
        },
    },
]


@dataclass(frozen=True)
class ToolCase:
    text: str
    tool: str | None  # None: an answer in words, no tool
    arguments: dict[str, str] = field(default_factory=dict)  # each must be found in the value


TOOL_CASES = [
    ToolCase("Thanks, that's all I needed. Goodbye!", "end_call"),
    ToolCase("Okay, bye now.", "end_call"),
    ToolCase("Great, thank you so much, have a nice day, goodbye.", "end_call"),
    ToolCase(
        "Can I speak to a real person, please?", "transfer_call", {"phone_number": TRANSFER_NUMBER}
    ),
    ToolCase(
        "Please transfer me to someone at the front desk.",
        "transfer_call",
        {"phone_number": TRANSFER_NUMBER},
    ),
    ToolCase("I want to talk to a human.", "transfer_call", {"phone_number": TRANSFER_NUMBER}),
    ToolCase(
        "Book me a cleaning on Tuesday, my name is John Smith.",
        "book_appointment",
        {"name": "john smith", "day": "tuesday"},
    ),
    ToolCase(
        "My name is Maria Lopez and I'd like an appointment on Friday.",
        "book_appointment",
        {"name": "maria lopez", "day": "friday"},
    ),
    ToolCase(
        "Please book an exam on Monday for Wei Chen.",
        "book_appointment",
        {"name": "wei chen", "day": "monday"},
    ),
    ToolCase(
        "I'm Tom Baker, can you schedule me for Thursday?",
        "book_appointment",
        {"name": "tom baker", "day": "thursday"},
    ),
    ToolCase("What are your opening hours?", None),
    ToolCase("How much does a cleaning cost?", None),
    ToolCase("Where are you located?", None),
    ToolCase("Do you take Delta Dental insurance?", None),
    ToolCase("How much is teeth whitening?", None),
    ToolCase("Are you open on Sunday?", None),
]

# --- post-call analysis ----------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisCase:
    outcome: Outcome
    lines: tuple[tuple[str, str], ...]


ANALYSIS_CASES = [
    AnalysisCase(
        Outcome.MEETING_BOOKED,
        (
            ("agent", "Hi, this is Sam from Acme. Do you have a minute about our scheduler?"),
            ("user", "Sure, we have about twelve people and our calendar is a mess."),
            ("agent", "Could we book a demo for you?"),
            ("user", "Yes, Friday at ten works for me."),
            ("agent", "Booked for Friday at ten. Thank you!"),
        ),
    ),
    AnalysisCase(
        Outcome.NOT_INTERESTED,
        (
            ("agent", "Hi, this is Sam from Acme. Do you have a minute about our scheduler?"),
            ("user", "No thanks, we already use another tool and we are happy with it."),
            ("agent", "I understand. Thanks for your time."),
            ("user", "Bye."),
        ),
    ),
    AnalysisCase(
        Outcome.CALL_BACK,
        (
            ("agent", "Hi, this is Sam from Acme. Do you have a minute about our scheduler?"),
            ("user", "I'm driving right now. Can you call me back tomorrow afternoon?"),
            ("agent", "Of course, I will call you back tomorrow afternoon."),
        ),
    ),
    AnalysisCase(
        Outcome.WRONG_NUMBER,
        (
            ("agent", "Hi, is this Dana Miller from Brightside Logistics?"),
            ("user", "No, there is no Dana here. You have the wrong number."),
            ("agent", "Sorry about that, have a good day."),
        ),
    ),
    AnalysisCase(
        Outcome.DO_NOT_CALL,
        (
            ("agent", "Hi, this is Sam from Acme about our scheduler."),
            ("user", "Stop calling me. Remove me from your list."),
            ("agent", "I'm sorry, we will remove you."),
        ),
    ),
    AnalysisCase(
        Outcome.INTERESTED,
        (
            ("agent", "Hi, this is Sam from Acme. Do you have a minute about our scheduler?"),
            ("user", "That sounds interesting. Can you send me some information by email first?"),
            ("agent", "Sure, I'll email you the brochure today."),
            ("user", "Great, I'll read it and think about it."),
        ),
    ),
    AnalysisCase(
        Outcome.MEETING_BOOKED,
        (
            ("agent", "Brightsmile Dental, this is Ava. How can I help?"),
            ("user", "I'd like to book a cleaning. My name is John Smith, Tuesday if possible."),
            ("agent", "You're booked for a cleaning on Tuesday, John. See you then!"),
        ),
    ),
    AnalysisCase(
        Outcome.COMPLETED,
        (
            ("agent", "Brightsmile Dental, this is Ava. How can I help?"),
            ("user", "What time do you open on Saturday?"),
            ("agent", "We open on Saturday from 9 am to 1 pm."),
            ("user", "Thanks, that's all."),
        ),
    ),
]
