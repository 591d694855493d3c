"""The agent's fixed lines: what every brain says the same way (greeting, cues, fallbacks, closing, hand-off).

One place to read or change what callers hear outside of generated answers. Lines with `{business}` are
formatted with the business name.
"""

from __future__ import annotations

import re

GREETING = "Hello! Thanks for calling {business}. I'm your AI assistant. How can I help you today?"
# With RECORD_CALLS=true the greeting says so before the caller says anything (staying on the line is consent).
RECORDING_NOTICE = "This call is recorded for quality and training."
DID_NOT_CATCH = "I'm sorry, I didn't catch that. Could you repeat?"
ANYTHING_ELSE = "Is there anything else I can help with today?"
WELCOME = f"You're welcome! {ANYTHING_ELSE}"
CLOSING = "Perfect! Thanks for calling {business}. Have a great day!"
LISTENING_CUE = "Let me check that for you..."
DONT_KNOW = ("I'm not sure about that one. I can help with our plans and pricing, features, setup, "
             "troubleshooting, your account, or booking an appointment. Or I can connect you with a specialist.")

# When a part of the call fails
LLM_FALLBACK = "I'm having trouble processing that. Let me connect you with support."
TOOL_FAILED = "Sorry, something went wrong on my side. Let me try that again in a moment."

# Handing the caller to a human
ESCALATION_OPENING = "I want to make sure you get the best help."
TRANSFER_MESSAGE = (f"{ESCALATION_OPENING} Let me connect you with one of our specialists who can assist you further. "
                    "Please hold...")
TICKET_OPENED = "I've opened a ticket for you."
TICKET_UPDATED = "I've added that to your ticket."
# When an FAQ answer did not solve it ("I already tried that"): the offer a "yes" accepts
DID_NOT_HELP = "Sorry that didn't sort it out. I can connect you with a specialist who can look into it."
# ...when what the answer said would come (an email, a link) did not
DID_NOT_COME = ("Sorry about that. Please check your spam or junk folder for it. If it isn't there, I can connect you "
                "with a specialist who can look into it.")
# The offline engine cannot change a booking: it says so rather than the generic opening
BOOKING_CHANGE_BY_HUMAN = "I can't change or cancel bookings myself, so I've passed it to the team."
CALLBACK_AT = "A specialist will call you back at the number ending in {digits}."
CALLBACK_SOON = "A specialist will follow up with you as soon as possible."
TRANSFER_ANNOUNCEMENT = "Connecting you to a specialist now."  # said by the phone network while it dials

# Bookings are read out only to the number they were booked for (the number the call comes from)
OWN_BOOKINGS_ONLY = ("For your privacy I can only look up bookings for the number you're calling from. "
                     "Please call us from that number, or I can connect you with a specialist.")
NUMBER_HIDDEN = ("For your privacy I can only look up bookings for the number you're calling from, "
                 "and I can't see that number on this call.")

# Turns nobody could understand before the caller is handed to a human
MAX_NOT_UNDERSTOOD = 3

# Said by the phone network instead of a call (the webhook's refusals), and at the end of a deploy's drain
LINES_BUSY = ("Thanks for calling {business}. All of our lines are busy right now. "
              "Please call back in a few minutes. Goodbye.")
TOO_MANY_CALLS = ("Thanks for calling {business}. We have had a lot of calls from this number in the last hour. "
                  "Please try again later. Goodbye.")
SERVER_CLOSING = ("I'm sorry, I have to end our call now for a short maintenance. "
                  "Please call us back in a few minutes. Goodbye.")

# When the offline brain cannot tell what a turn meant (its intent classifier is unsure)
CLARIFY = ("Sorry, I'm not sure I followed. Do you have a question, would you like to book an appointment, "
           "or should I connect you with a person?")
# Asked for a person again once a specialist is to call back: no second ticket
ALREADY_HANDED_OVER = ("I've added that to what I passed on to our team, and a specialist will call you back as soon as "
                       "they can.")
# Asked when, once a ticket is open
CALLED_BACK = "Your request is with our team, and a specialist will call you back as soon as they can."
# A follow-up that adds nothing to the answer just given (the agent does not say the same answer twice)
NOTHING_MORE = ("That's all I have on that one. Is there something else you'd like to know, or should I connect you "
                "with a specialist?")
CONFIRM_AGAIN = "Sorry, I didn't quite get that. Shall I book it? Just say yes or no."

# The call flow on every brain (docs/call-flow.md): cues while a lookup or tool runs (they alternate, so a caller
# never hears the same one twice in a row), the idle check, and the booking's confirmation text
ONE_MOMENT = "One moment."
LISTENING_CUES = (LISTENING_CUE, ONE_MOMENT)
STILL_THERE = "Are you still there?"
IDLE_GOODBYE = "I can't hear anything, so I'll end the call now. Thanks for calling {business}. Goodbye!"
TEXT_COMING = "You'll receive a confirmation text shortly."
CONFIRMATION_SMS = ("{business}: your appointment is confirmed for {when}. Booking reference {reference}. "
                    "Call us to change or cancel it.")


def greeting_line(business: str, recorded: bool = False) -> str:
    """The greeting every brain opens with; it carries the recording notice when calls are recorded."""
    line = GREETING.format(business=business)
    if not recorded:
        return line
    sentences = re.split(r"(?<=[.!?])\s+", line)
    at = min(2, len(sentences) - 1)  # after "Hello! Thanks for calling ...", before the question
    return " ".join([*sentences[:at], RECORDING_NOTICE, *sentences[at:]])
