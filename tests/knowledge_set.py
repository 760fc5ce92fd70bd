"""A small labelled retrieval set: a shop's knowledge base, one fact per passage, and questions
that paraphrase a passage without its words, each labelled with the passage that answers it.
The retrieval test and `bench/knowledge.py` report recall@3 on it."""

from __future__ import annotations

PASSAGES = [
    "Our stores open at 9 a.m. and close at 6 p.m. from Monday to Friday; on Saturdays they "
    "open at 10 a.m. and close at 4 p.m. We are closed on Sundays and public holidays.",
    "Unworn items can be returned within 30 days of delivery for a full refund. Bring the "
    "receipt or the order number; sale items can only be exchanged.",
    "Refunds go back to the card used for the purchase and usually appear within five "
    "business days after we receive the returned parcel.",
    "Standard shipping within the country takes three to five business days and is free for "
    "orders over 50 dollars; express delivery arrives the next business day for 12 dollars.",
    "We ship internationally to Canada, Mexico and most of Europe. Customs duties and import "
    "taxes are paid by the recipient on delivery.",
    "Every order can be tracked with the link in the confirmation email; the tracking number "
    "becomes active a few hours after the parcel leaves our warehouse.",
    "The Velo 3 electric bike has a 500 Wh battery that gives a range of up to 90 kilometres "
    "and charges fully in about four and a half hours.",
    "All bikes come with a two-year warranty covering the frame, motor and battery against "
    "manufacturing defects; wear parts such as tyres and brake pads are not covered.",
    "We accept Visa, Mastercard, American Express, PayPal and Apple Pay. Orders over 300 "
    "dollars can be paid in four interest-free instalments.",
    "To reset your account password, click 'Forgot password' on the sign-in page and follow "
    "the link we email you; the link expires after one hour.",
    "Free bike servicing is included for the first six months after purchase at any of our "
    "workshops; book an appointment online or by phone.",
    "Gift cards are available from 10 to 500 dollars, never expire and can be used in stores "
    "and online, but cannot be exchanged for cash.",
    "Our customer service team is reachable by phone from 8 a.m. to 8 p.m. every day, or by "
    "email at help@example.com with an answer within 24 hours.",
    "Children's bikes are sized by wheel diameter: 16-inch wheels suit ages four to six, "
    "20-inch wheels ages six to nine, and 24-inch wheels ages nine to twelve.",
    "Helmets must be tried on in store for hygiene reasons and cannot be returned once the "
    "protective film has been removed.",
]

QUESTIONS: list[tuple[str, int]] = [
    ("what time do you shut on weekdays", 0),
    ("are you around on a sunday", 0),
    ("when can I come by the shop on the weekend", 0),
    ("how long do I have to send something back", 1),
    ("can I give back something I bought on sale", 1),
    ("when will I see my money again after returning a parcel", 2),
    ("how many days until my card is credited", 2),
    ("how much does delivery cost and how long does it take", 3),
    ("can I get my order tomorrow", 3),
    ("do you deliver abroad", 4),
    ("who pays the import fees if I order from France", 4),
    ("where is my package", 5),
    ("my tracking code does not work yet", 5),
    ("how far can the Velo 3 go on one charge", 6),
    ("how long does it take to recharge the ebike", 6),
    ("is the motor guaranteed if it breaks", 7),
    ("are worn out tyres covered", 7),
    ("can I pay with paypal", 8),
    ("can I split the payment into several parts", 8),
    ("I forgot my login, what do I do", 9),
    ("the password link you sent me does not work anymore", 9),
    ("is the first maintenance free", 10),
    ("how do I book a tune up for my new bike", 10),
    ("do vouchers have an end date", 11),
    ("can I turn a gift card into money", 11),
    ("what are the hours of your phone support", 12),
    ("how quickly do you reply to emails", 12),
    ("which size of bike for a seven year old", 13),
    ("what wheel size should my little one ride at five", 13),
    ("can I send back a helmet", 14),
]
