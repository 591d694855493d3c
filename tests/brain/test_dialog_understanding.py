"""Intent and slot understanding on caller phrasings as speech recognition writes them."""

from __future__ import annotations

import pytest

from voiceagent.brain.slots import (
    bare_hour_as_time,
    extract_name,
    extract_phone_digits,
    has_date,
    has_time,
    vague_time,
    when_phrase,
    without_rejected_when,
)
from voiceagent.brain.understanding import (
    asks_about_the_appointment,
    asks_to_repeat,
    asks_who_is_speaking,
    checks_presence,
    detect_intent,
    normalize,
    topic_only,
)


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("I'd like to book an appointment for tomorrow at 2pm.", "book"),
        ("Um, can I schedule a demo next Tuesday?", "book"),
        ("I need an appointment please", "book"),
        ("Do I have an appointment with you?", "check"),
        ("Can you check my booking?", "check"),
        ("When is my appointment?", "check"),
        ("Can I talk to a real person?", "escalate"),
        ("I want to speak with a manager.", "escalate"),
        ("Transfer me to a human please", "escalate"),
        ("Can I speak with someone from billing?", "escalate"),
        ("I need a real person.", "escalate"),
        ("Could you get me an agent?", "escalate"),
        ("Representative.", "escalate"),
        ("Agent, please.", "escalate"),
        ("Please have someone call me back.", "escalate"),
        ("Can I talk to sales?", "escalate"),
        ("I'd like to set up a time to talk to someone about the Business plan.", "book"),
        ("I want to book a call with a specialist.", "book"),
        ("Do you have anything available on Friday morning?", "book"),
        ("Are there any open slots next week?", "book"),
        ("I need to see someone on the 30th.", "book"),
        ("Can someone call me back tomorrow?", "escalate"),
        ("Tuesday would work, like around lunch.", "book"),
        ("Are you open on Saturday?", "faq"),
        ("Can I come in at 8 tonight?", "book"),
        ("Next Monday at 11.", "book"),
        ("My dashboard stopped working today.", "faq"),
        ("It crashed this morning at 9.", "faq"),
        ("Which languages does the agent speak?", "faq"),  # a question about the product, not a request
        ("Can your AI agent talk to customers on WhatsApp?", "faq"),
        ("How does the assistant connect to my CRM?", "faq"),
        ("No, that's all. Thanks.", "goodbye"),
        ("Okay, bye!", "goodbye"),
        ("Nope, I'm all set.", "goodbye"),
        ("Yes, please.", "yes"),
        ("Yeah, that's right.", "yes"),
        ("No, that's wrong.", "no"),
        ("Thank you.", "thanks"),
        ("How much does the Pro plan cost?", "faq"),
        ("Do you integrate with Slack?", "faq"),
        ("Yeah hi, um, so what's included in the business plan?", "faq"),  # an opener, then a question: not a yes
        ("Okay so how do I reset my password?", "faq"),
        ("Do you have anything tomorrow morning?", "book"),
        ("Actually never mind.", "no"),
        ("Um, actually, yes please.", "yes"),
        ("I'd like to reschedule my appointment", "cancel_booking"),  # not a check of "my appointment"
        ("Hi, um, do I have anything booked with you guys?", "check"),
    ],
)
def test_intents(said, intent):
    assert detect_intent(normalize(said)).name == intent


def test_frustration_is_noticed():
    assert detect_intent(normalize("This is ridiculous, you are not listening to me")).frustrated


@pytest.mark.parametrize(
    ("said", "name"),
    [("My name is Maria Lopez.", "Maria Lopez"), ("This is John.", "John"), ("It's under the name of Priya Patel", "Priya Patel"),
     ("I'm calling about my bill", None), ("I'm looking for help", None)],
)
def test_names(said, name):
    assert extract_name(normalize(said)) == name


@pytest.mark.parametrize(("said", "expecting", "name"), [
    # what a probe of callers' own words booked or read back: "Wrong It's", "Dave Dave Kowalski", "Name's Priya",
    # "Mrs Dorothy", "Yeah"; and "...for George" was asked for again
    ("no the name is wrong it's karin with an i", False, "Karin"), ("it's dave, dave kowalski", True, "Dave Kowalski"),
    ("name's priya", True, "Priya"), ("My name is Mrs. Dorothy Abernathy.", False, "Dorothy Abernathy"),
    ("yeah", True, None), ("schedule me a consultation wednesday at ten am for george", False, "George"),
    ("book me tuesday for ten", False, None), ("book a call tuesday at 3 for pricing", False, None),
    ("tuesday at 10 for me", False, None),
])
def test_names_in_callers_own_words(said, expecting, name):
    assert extract_name(normalize(said), expecting_name=expecting) == name


@pytest.mark.parametrize("said", ["Sam Carter.", "It's for Sam Carter.", "put it under sam carter"])
def test_a_name_given_when_asked_is_the_name_alone(said):
    assert extract_name(normalize(said), expecting_name=True) == "Sam Carter"  # it was "For Sam Carter"


def test_bare_name_counts_only_when_asked():
    assert extract_name(normalize("Sam Carter."), expecting_name=False) is None


@pytest.mark.parametrize(
    ("said", "digits"),
    [("my number is 555 123 4567", "5551234567"), ("five five five, one two three, four five six seven", "5551234567"),
     ("(555) 987-6543", "5559876543"), ("call me at plus 1 555 222 3333", "15552223333"), ("at 2pm", None)],
)
def test_phone_digits(said, digits):
    assert extract_phone_digits(normalize(said)) == digits


def test_dates_and_times_are_spotted_and_asr_times_fixed():
    text = normalize("Can I come in next Tuesday at 1030?")
    assert has_date(text) and has_time(text)
    assert "10:30" in when_phrase(text)
    assert "10:30" in normalize("next tuesday at 10.30 in the morning")
    assert has_date(normalize("tomorrow")) and not has_time(normalize("tomorrow"))
    assert has_time(normalize("at 2pm")) and not has_date(normalize("at 2pm"))


def test_text_is_made_speakable_and_split_into_clauses():
    from voiceagent.shared.speech_text import clauses, speakable

    assert speakable("Pro at $99/month with 24/7 support, 30% off.") == "Pro at 99 dollars a month with 24 7 support, 30 percent off."
    assert speakable("$1.50 **now**").strip() == "1 dollars and 50 cents now"
    assert clauses("Yes, install the app in Slack, and it answers in channels.") == [
        "Yes, install the app in Slack,", "and it answers in channels."]
    assert clauses("The Business plan is 299 dollars per month with unlimited calls, and support.") == [
        "The Business plan is 299", "dollars per month with unlimited calls, and support."]


@pytest.mark.parametrize(("said", "repeat"), [
    ("Sorry?", True), ("What was that?", True), ("Could you repeat that please?", True),
    ("Sorry, I didn't hear you. What did you say?", True),
    ("I didn't catch that.", True), ("Say that again?", True),
    ("Can you repeat my appointment time?", False), ("What is the Pro plan?", False), ("Sorry, I'm late.", False),
])
def test_asking_to_hear_the_reply_again(said, repeat):
    assert asks_to_repeat(normalize(said)) is repeat


@pytest.mark.parametrize(("said", "topic"), [
    ("Hi, I'm calling about my account.", "your account"), ("I have a question about the Pro plan", "the Pro plan"),
    ("I need help with my API key", "your API key"), ("I'm calling about my appointment", None),
    ("How do I delete my account?", None), ("I'm calling about my account because I can't log in", None),
])
def test_a_topic_without_a_question_is_asked_about_not_guessed(said, topic):
    assert topic_only(normalize(said)) == topic


@pytest.mark.parametrize(("said", "presence"), [
    ("Hello? Is anyone there?", True), ("Can you hear me?", True), ("Hello, hello?", True), ("Are you still there?", True),
    ("Hello.", False), ("Is there anyone who can help with billing?", False),
])
def test_checking_the_line_is_not_a_question(said, presence):
    assert checks_presence(normalize(said)) is presence


@pytest.mark.parametrize(("said", "identity"), [
    ("Who am I speaking with?", True), ("Are you a robot?", True), ("Am I talking to a real person?", True),
    ("So, what can you do?", True),
    ("I want to talk to a real person.", False), ("Who can help me with billing?", False),
])
def test_questions_about_the_agent_itself(said, identity):
    assert asks_who_is_speaking(normalize(said)) is identity


def test_hours_as_speech_recognition_writes_them():
    assert has_time(normalize("um, 2 o'clock?")) and "at 2" in when_phrase(normalize("2 o'clock"))
    assert has_time(normalize("around 2")) and "at 2:30" in when_phrase(normalize("about 2:30"))
    assert not has_time(normalize("by the 3rd"))
    assert not has_time(normalize("it drops after about 20 minutes")) and not has_time(normalize("after 3 days"))
    assert bare_hour_as_time(normalize("I need 2 appointments")) == "i need 2 appointments"
    assert bare_hour_as_time(normalize("before 4")) == "before 4"  # not a time to book
    # A bare hour is a time only as the answer to "what time?" (digits only while something else was asked).
    assert bare_hour_as_time(normalize("um, 2?")) == "at 2"
    assert bare_hour_as_time(normalize("three maybe")) == "at three maybe"
    assert bare_hour_as_time(normalize("three maybe"), digits_only=True) == "three maybe"
    assert bare_hour_as_time(normalize("10 is fine"), digits_only=True) == "at 10 is fine"
    assert bare_hour_as_time(normalize("whichever one is free")) == "whichever one is free"
    # "tomorrow morning" names no hour, "two in the afternoon" does.
    assert vague_time(normalize("tomorrow morning")) == "morning"
    assert vague_time(normalize("two in the afternoon")) is None and vague_time(normalize("at 10")) is None


@pytest.mark.parametrize(("text", "booking", "expected"), [
    ("wait how long is the appointment", False, True), ("how long does the consultation take", False, True),
    ("what's the appointment for exactly", False, True), ("who will i be talking to", False, True),
    ("how many minutes is the meeting", False, True), ("how long is it", True, True),
    ("how long is it", False, False), ("how long does setup take", True, False),
    ("how long until my data is deleted", False, False), ("what time is my appointment", False, False),
    ("who am i talking to", False, False), ("what are the api calls for", False, False),
])
def test_a_question_about_what_an_appointment_is(text, booking, expected):
    assert asks_about_the_appointment(normalize(text), booking=booking) is expected


@pytest.mark.parametrize(("said", "read"), [
    ("i need a consultation for wendy's day at 3", "i need a consultation for wednesday at 3"),
    ("tomorrow at half two", "tomorrow at 2:30"), ("half an hour", "half an hour"), ("half past two", "half past two"),
    ("monday noonish", "monday noon"), ("friday after lunch", "friday afternoon"),
    ("end of the day on monday", "afternoon latest on monday"),
])
def test_days_and_times_as_a_recogniser_writes_them_are_read_as_the_booking_reads_them(said, read):
    assert normalize(said) == read


@pytest.mark.parametrize(("heard", "read"), [
    ("ok thats everything thanks", "ok that's everything thanks"),
    ("um whens my meeting with you guys again", "when's my meeting with you guys again"),
    ("names jo kim", "name's jo kim"), ("my names jo kim", "my name's jo kim"),
    ("im calling about my bill", "i'm calling about my bill"), ("it doesnt work and i cant log in",
                                                                 "it doesn't work and i can't log in"),
    ("youre great", "you're great"), ("ive got a question", "i've got a question"),
    # words of their own stay as they are
    ("its mark oneill", "its mark oneill"), ("ill call back", "ill call back"), ("the names are", "the names are"),
    ("what names do you support", "what names do you support"), ("we were there", "we were there"),
])
def test_contractions_written_without_the_apostrophe_are_read_with_it(heard, read):
    assert normalize(heard) == read


def test_a_name_ends_where_the_caller_turns_another_down():
    assert extract_name("the name is stephanie not steven") == "Stephanie"
    assert extract_name(normalize("names jo kim"), expecting_name=True) == "Jo Kim"


@pytest.mark.parametrize("said", ["actually three not two", "three instead of two", "three rather than two"])
def test_of_two_bare_hours_the_one_turned_down_is_dropped(said):
    assert has_time(said)
    assert without_rejected_when(said).endswith("at three")
    assert not has_time(without_rejected_when("we have five not ten users"))  # counts are no hours
