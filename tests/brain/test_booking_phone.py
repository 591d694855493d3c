"""The booking flow over wordings a caller probe found on the phone line (as its recogniser wrote them): the one
offered time taken by "that one", a read-back put off or moved to another day, an hour said loosely, two parts of
the day in one turn, a question about the confirmation, a booking the caller asks after, and the name said at the
start of the call."""

from __future__ import annotations

import pytest

from tests.brain.talk import NOW, build_engine, new_database, say
from voiceagent.brain.booking import ASK_NAME
from voiceagent.tools import BusinessHours, ToolContext, run_tool

READ_BACK = "Just to confirm: an appointment for Dave, Monday, February 23rd at 10 AM. Shall I book it?"


# -- 1. the one time offered, taken by "that one" ------------------------------------------------------------

@pytest.mark.parametrize("pick", ["Now let's do that one", "yeah let's do that one"])
async def test_the_one_time_offered_is_taken_by_that_one(engine, pick):
    await say(engine, "can i book something for monday")
    offered = await say(engine, "what's the earliest")
    assert offered == "The earliest I have is Monday, February 23rd at 9 AM. Would that work?"
    assert await say(engine, pick) == ASK_NAME  # "Now let's do that one": "Sorry, would that time work for you?"
    assert "an appointment for Gary, Monday, February 23rd at 9 AM" in await say(engine, "gary")


@pytest.mark.parametrize("pick", ["fine, the latest one", "Find the latest one"])
async def test_the_latest_one_takes_the_latest_time_offered(engine, pick):
    await say(engine, "do you have anything at like six thirty in the evening on wednesday")
    offered = await say(engine, "ugh ok whats the latest you got that day")
    assert offered == "The latest I have is Wednesday, February 25th at 4:30 PM. Would that work?"
    assert await say(engine, pick) == ASK_NAME  # was "Sorry, would that time work for you?"
    assert "an appointment for Gary, Wednesday, February 25th at 4:30 PM" in await say(engine, "gary")


async def test_the_one_time_listed_is_taken_by_that_one(tmp_path, runtime):
    database = new_database(tmp_path)
    other = ToolContext(database=database, hours=BusinessHours(), caller_phone="+15559876543", call_sid="CA0",
                        now=lambda: NOW)
    for clock in ("9:30 am", "10 am", "10:30 am", "11 am", "11:30 am"):
        assert (await run_tool(other, "book_appointment", {"date": f"monday at {clock}", "name": "Lee"}))["ok"]
    engine = build_engine(database, runtime, runtime.intents)
    assert "I have 9 AM free." in await say(engine, "do you have anything monday morning")
    assert await say(engine, "yeah let's do that one") == ASK_NAME  # was "Sure, which time would you like?"


# -- 2. the read-back put off ---------------------------------------------------------------------------------

@pytest.mark.parametrize("put_off", ["hmm, actually, you know what, hold off. I need to check with my boss first",
                                     "never mind", "maybe later", "hold off for now",
                                     "hmm let me talk to my wife first"])  # not a request for a person
async def test_a_read_back_put_off_books_nothing_and_says_so(engine, put_off):
    assert await say(engine, "book me monday at 10, name's dave") == READ_BACK
    said = await say(engine, put_off)  # was "Sorry, I didn't catch that. Just to confirm: ..."
    assert "I haven't booked anything" in said and "Just to confirm" not in said
    assert engine.state.booking is None
    assert "You have" not in await say(engine, "what time is my appointment")


# -- 3. the day of the read-back turned down ------------------------------------------------------------------

async def test_another_day_same_time_at_the_read_back_keeps_the_time_and_the_name(engine):
    await say(engine, "book me monday at 10, name's dave")
    moved = await say(engine, "oh shoot, Monday's no good actually. can we do Tuesday, same time")
    assert moved == "Just to confirm: an appointment for Dave, Tuesday, February 24th at 10 AM. Shall I book it?"
    assert "scheduled your appointment for Tuesday, February 24th at 10 AM" in await say(engine, "yes")  # was Monday


@pytest.mark.parametrize("lost", ["no good actually, can we do through the same time",
                                  "oh shoot, Monday's no good actually. can we do through the same time",
                                  "monday doesn't work for me"])
async def test_a_day_turned_down_with_the_new_day_lost_asks_the_day(engine, lost):
    await say(engine, "book me monday at 10, name's dave")
    asked = await say(engine, lost)  # Monday was read back again, and a yes booked it
    assert asked == "No problem. Which day would you like instead, at 10 AM?"
    assert "Dave, Tuesday, February 24th at 10 AM" in await say(engine, "tuesday")


async def test_a_day_turned_down_with_a_new_hour_asks_the_day_for_that_hour(engine):
    await say(engine, "book me monday at 10, name's dave")
    assert await say(engine, "monday's no good, how about 3 pm") == "No problem. Which day would you like instead, at 3 PM?"
    assert "Dave, Wednesday, February 25th at 3 PM" in await say(engine, "wednesday")  # was Monday at 3 PM


# -- 4. an hour said loosely, carried to another day ----------------------------------------------------------

@pytest.mark.parametrize("first", ["saturday morning like ten-ish", "saturday morning like ten"])
async def test_ten_ish_on_a_closed_day_carries_to_the_other_day(engine, first):
    assert "closed on Saturdays" in await say(engine, f"can i come in {first}")
    assert await say(engine, "Friday then, same time") == ASK_NAME
    assert "Dave, tomorrow, February 20th at 10 AM" in await say(engine, "dave")  # was 9 AM


# -- 5. two parts of the day in one turn: the one said last ---------------------------------------------------

@pytest.mark.parametrize("said", ["mornings are no good for me. Monday the 20th or that to in the afternoon",
                                  "i'm busy in the morning so Monday the 20th or that to in the afternoon",
                                  "not in the morning, Monday the 20th or that to in the afternoon"])
async def test_the_afternoon_asked_for_is_offered_not_the_morning(engine, said):
    await say(engine, "i'd like to book an appointment")
    offered = await say(engine, said)  # "What time in the morning works for you? I have 9 AM, 10 AM or 11 AM free."
    assert offered.startswith("Sure. What time in the afternoon works for you? I have noon, 1 PM or 2 PM free.")


# -- 6. a question about the confirmation while the booking waits ---------------------------------------------

async def test_a_question_about_an_email_is_answered_and_the_time_asked_again(engine):
    asked = await say(engine, "i need an appointment monday")
    said = await say(engine, "and will I get an email about it or something?")  # was the time question again
    assert said.startswith("I can't promise an email") and "phone number" in said
    assert said.endswith(f"Now, back to your booking. {asked}")
    assert await say(engine, "10 works") == ASK_NAME


# -- 7. a booking the caller asks after, with a day --------------------------------------------------------------

MARCUS = "hey it's Marcus, I've got something on the books with you for Friday I think, can you tell me what time"
GARY = "Hi, it's Gary Holt, I called earlier about a demo next Thursday, did that go through?"


async def test_something_on_the_books_for_friday_reads_out_the_booking(engine):
    await say(engine, "book me friday at three, name's dave")
    await say(engine, "yes")
    # "What time works for you on that day?": a new booking was started
    assert "You have an appointment tomorrow, February 20th at 3 PM" in await say(engine, MARCUS)


@pytest.mark.parametrize("asked", [MARCUS, GARY])
async def test_asking_after_a_booking_there_is_not_offers_one(engine, asked):
    said = await say(engine, asked)
    assert said == "I couldn't find an upcoming appointment for the number ending in 4 5 6 7. Would you like to book one?"
    assert engine.state.booking is None


async def test_yes_to_booking_one_after_asking_keeps_the_day_and_the_name(engine):
    await say(engine, GARY)
    assert (await say(engine, "yes")).startswith("Sure, Thursday, February 26th. What time works for you?")
    assert "an appointment for Gary Holt, Thursday, February 26th at 1 PM" in await say(engine, "one")


# -- 8. the name said at the start of the call; a yes before the name -------------------------------------------

async def test_the_name_said_at_the_start_of_the_call_is_not_asked_again(engine):
    await say(engine, GARY)
    said = await say(engine, "oh right, I told you to wait. okay, let's book it now, Thursday at one")
    assert said == "Just to confirm: an appointment for Gary Holt, Thursday, February 26th at 1 PM. Shall I book it?"
    assert "scheduled your appointment for Thursday, February 26th at 1 PM" in await say(engine, "yes")


@pytest.mark.parametrize(("said", "name"), [("yep, that's right, Gary Holt", "Gary Holt"),
                                            ("yeah that's right, Gary", "Gary"), ("yeah, Gary Holt", "Gary Holt")])
async def test_a_yes_before_the_name_is_no_part_of_it(engine, said, name):
    assert await say(engine, "i want to book thursday at one") == ASK_NAME
    # "yep, that's right, Gary Holt" got "Sorry, I didn't catch your name"
    assert f"an appointment for {name}, Thursday, February 26th at 1 PM" in await say(engine, said)


# -- o'clock as the phone line's recogniser writes it ---------------------------------------------------------

@pytest.mark.parametrize(("heard", "clock"), [("Two clap works.", "2 PM"), ("Let's say free of luck", "3 PM"),
                                               ("10-30 is fine", "10:30 AM")])
async def test_a_time_heard_in_other_words_is_the_time(engine, heard, clock):
    await say(engine, "I'd like to set up a demo for Monday")
    said = await say(engine, heard)  # "Two clap works" was "Sorry, I didn't catch that. What time works..."
    assert said == ASK_NAME
    assert f"Monday, February 23rd at {clock}" in await say(engine, "Daniel Kim")


async def test_a_garbled_answer_mid_booking_asks_for_nobody(engine):
    # "Daniel Kim" heard as "Can you look in?" while the agent asked for a time opened a ticket and ended the booking
    await say(engine, "I'd like to set up a demo for Thursday afternoon")
    again = await say(engine, "Your clockwork")
    assert again.startswith("Sorry, I didn't catch that. What time in the afternoon works for you?")  # no "Sure."
    assert "ticket" not in await say(engine, "Can you look in?")
    assert engine.state.booking is not None
    assert await say(engine, "two o'clock") == ASK_NAME


@pytest.mark.parametrize("asks", ["can I just talk to a person", "actually just transfer me"])
async def test_a_person_asked_for_mid_booking_is_still_a_person(engine, asks):
    await say(engine, "I'd like to set up a demo for Thursday afternoon")
    assert "specialist" in await say(engine, asks)
