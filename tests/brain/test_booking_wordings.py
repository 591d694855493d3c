"""The booking flow over the wordings callers use for it: corrections at the read-back, names said with the
request or with a remark after them, words that are no name, a goodbye before anything is booked, picking or
asking about the offered times, "same time", and changes to a booking the caller may not have."""

from __future__ import annotations

import pytest

from tests.brain.talk import ends_call, say
from voiceagent.brain.booking import ASK_NAME
from voiceagent.brain.dialog import DialogEngine
from voiceagent.shared.phrases import BOOKING_CHANGE_BY_HUMAN, TICKET_OPENED


async def read_back(engine: DialogEngine) -> str:
    assert await say(engine, "i wanna book a call with someone friday at three") == ASK_NAME
    said = await say(engine, "dave")
    assert "Dave, tomorrow, February 20th at 3 PM" in said and "Shall I book" in said
    return said


# -- 1. a correction of one slot at the read-back keeps the others ------------------------------------------

@pytest.mark.parametrize(("correction", "time"), [
    ("oh wait no make that four", "4 PM"), ("four instead", "4 PM"), ("can we do four", "4 PM"),
    ("actually half past four", "4:30 PM"), ("no sorry change it to four", "4 PM"), ("no, four", "4 PM"),
    ("actually four thirty", "4:30 PM"),
])
async def test_a_time_corrected_at_the_read_back_keeps_the_day_and_the_name(engine, correction, time):
    # "oh wait no make that four" got "No problem. What day and time would work better?": day and name were lost
    await read_back(engine)
    corrected = await say(engine, correction)
    assert f"an appointment for Dave, tomorrow, February 20th at {time}" in corrected and "Shall I book" in corrected
    assert f"scheduled your appointment for tomorrow, February 20th at {time}" in await say(engine, "yes")


@pytest.mark.parametrize("correction", ["no no the name is wrong its joan not jon", "the name is wrong its joan",
                                        "no it's joan", "it's spelled j o a n", "the name should be joan"])
async def test_a_name_corrected_at_the_read_back_changes_only_the_name(engine, correction):
    await say(engine, "hi yeah i want to book a consultation for monday at three thirty")
    assert "Jon Smith, Monday, February 23rd at 3:30 PM" in await say(engine, "jon smith")
    corrected = await say(engine, correction)  # was taken as a change of time: "What day and time would work better?"
    assert "an appointment for Joan Smith, Monday, February 23rd at 3:30 PM" in corrected
    assert "Shall I book" in corrected


# -- 2. a name given with the request; words that are no name -----------------------------------------------

@pytest.mark.parametrize(("request_", "name"), [
    ("appointment. tomorrow 9am. name richard hale.", "Richard Hale"),
    ("book me tomorrow at 9am, name's richard hale", "Richard Hale"),
    ("can you book tomorrow at 9 under richard hale", "Richard Hale"),
    ("book an appointment for richard hale tomorrow at 9am", "Richard Hale"),
    ("tomorrow 9am for richard hale please", "Richard Hale"),
])
async def test_a_name_given_with_the_request_is_not_asked_for(engine, request_, name):
    said = await say(engine, request_)
    assert f"an appointment for {name}, tomorrow, February 20th at 9 AM" in said


@pytest.mark.parametrize("yes", ["confirm", "book it", "confirm please"])
async def test_a_yes_the_classifier_cannot_place_still_books_at_the_read_back(engine, yes):
    await say(engine, "appointment. tomorrow 9am. name richard hale.")
    assert "scheduled your appointment for tomorrow, February 20th at 9 AM" in await say(engine, yes)


@pytest.mark.parametrize("not_a_name", ["confirm", "yes", "yeah", "correct", "sure", "okay", "great", "perfect",
                                        "sounds good", "uh huh", "fine", "whatever", "thanks", "that's right",
                                        "yes please book it", "go ahead"])
async def test_a_reply_word_is_never_taken_as_the_name(engine, not_a_name):
    # asked for the name, "confirm" booked the appointment for "Confirm"
    assert await say(engine, "appointment tomorrow 9am") == ASK_NAME
    said = await say(engine, not_a_name)
    assert "an appointment for" not in said and "name" in said
    assert engine.state.booking.name is None


@pytest.mark.parametrize(("said", "name"), [("jennifer lopez no relation haha", "Jennifer Lopez"),
                                            ("mike jones like the singer", "Mike Jones"),
                                            ("sarah connor, as in the terminator", "Sarah Connor")])
async def test_a_name_with_a_remark_after_it_is_the_name(engine, said, name):
    # "jennifer lopez no relation haha" got "Sorry, I didn't catch your name"
    assert await say(engine, "id like to schedule something for the twenty fourth at half past nine") == ASK_NAME
    assert f"an appointment for {name}, Tuesday, February 24th at 9:30 AM" in await say(engine, said)


# -- 3. a goodbye before anything is booked --------------------------------------------------------------

@pytest.mark.parametrize("goodbye", ["great see you then", "thats all", "that's it thanks"])
async def test_a_goodbye_before_the_booking_is_made_says_nothing_is_booked_yet(engine, goodbye):
    # "great see you then" while asked for the name: the agent said goodbye and hung up, nothing booked
    assert await say(engine, "id like to schedule something for the twenty fourth at half past nine") == ASK_NAME
    warned = [u async for u in engine.respond(goodbye)]
    said = " ".join(u.text for u in warned)
    assert not any(u.end_call for u in warned)
    assert "nothing is booked yet" in said and "name" in said
    assert await ends_call(engine, "bye")  # said again, it ends the call
    assert engine.state.booking is None


@pytest.mark.parametrize("goodbye", ["ok bye", "great thanks bye", "thank you so much bye bye"])
async def test_a_caller_saying_bye_half_way_is_let_go_and_told_nothing_is_booked(engine, goodbye):
    # "great thanks bye" was held on the line with "nothing is booked yet" and the booking's question
    assert await say(engine, "id like to schedule something for the twenty fourth at half past nine") == ASK_NAME
    reply = [u async for u in engine.respond(goodbye)]
    assert reply[-1].end_call and "I haven't booked anything" in reply[-1].text
    assert engine.state.booking is None


async def test_a_goodbye_at_the_read_back_reads_it_back_and_a_yes_books_it(engine):
    await say(engine, "appointment. tomorrow 9am. name richard hale.")
    warned = await say(engine, "thats all")  # hung up, nothing booked
    assert "nothing is booked yet" in warned and "Richard Hale, tomorrow, February 20th at 9 AM" in warned
    assert "scheduled your appointment" in await say(engine, "oh yes please")


@pytest.mark.parametrize("goodbye", ["nope thats it have a good day", "no thanks bye", "never mind, goodbye"])
async def test_a_goodbye_that_turns_the_booking_down_ends_the_call(engine, goodbye):
    # "nope thats it have a good day" got "Okay, I won't book anything. Is there anything else...?"
    await say(engine, "is there any chance i could get in today like this afternoon")
    assert await ends_call(engine, goodbye)
    assert engine.state.booking is None


# -- 4. an offered time picked by its hour -----------------------------------------------------------------

@pytest.mark.parametrize(("pick", "time"), [("one works", "1 PM"), ("two is fine", "2 PM"),
                                            ("let's do the noon one", "noon"), ("the first one", "noon"),
                                            ("the last one", "2 PM"), ("the later one", "2 PM"),
                                            ("1 please", "1 PM")])
async def test_a_listed_time_is_picked_by_its_hour_or_place(engine, pick, time):
    listed = await say(engine, "is there any chance i could get in today like this afternoon")
    assert "I have noon, 1 PM or 2 PM free" in listed
    assert await say(engine, pick) == ASK_NAME  # "one works" got the list again, three times
    assert f"Ahmed, today at {time}" in await say(engine, "its ahmed")


async def test_an_offered_alternative_is_picked_by_its_hour(engine):
    offered = await say(engine, "i need an appointment tomorrow at 7 pm")
    assert "4 PM or tomorrow, February 20th at 4:30 PM" in offered
    assert await say(engine, "four thirty works") == ASK_NAME
    assert "Sam, tomorrow, February 20th at 4:30 PM" in await say(engine, "sam")


# -- 5. "same time" on another day ------------------------------------------------------------------------

@pytest.mark.parametrize("other_day", ["oh ok um monday then same time", "same time but on monday",
                                       "monday at the same time please"])
async def test_same_time_on_another_day_is_the_time_asked_for_before(engine, other_day):
    offered = await say(engine, "can i come in saturday around ten")
    assert "closed on Saturdays" in offered
    assert await say(engine, other_day) == ASK_NAME  # "same time" was ignored: the day's free times were listed
    assert "Kevin Obrien, Monday, February 23rd at 10 AM" in await say(engine, "names kevin obrien")


# -- 6. a question about the offered times is answered, not taken as a choice -----------------------------

@pytest.mark.parametrize(("question", "answer"), [
    ("whats the latest you got", "tomorrow, February 20th at 4:30 PM"),
    ("what's the latest you have", "tomorrow, February 20th at 4:30 PM"),
    ("anything earlier", "tomorrow, February 20th at 9 AM"),
    ("what's the earliest", "tomorrow, February 20th at 9 AM"),
])
async def test_a_question_about_the_offered_times_is_answered(engine, question, answer):
    await say(engine, "i need an appointment tomorrow at 7 pm im at work till six")
    said = await say(engine, question)  # was "Great. Can I have your name, please?", no time said
    assert answer in said and "Would that work?" in said
    assert await say(engine, "yes") == ASK_NAME
    assert f"Sam, {answer}" in await say(engine, "sam")


async def test_a_question_about_the_listed_times_is_answered(engine):
    assert "I have 9 AM, 10 AM or 11 AM free" in await say(engine, "can i book something for monday")
    said = await say(engine, "what's the latest you have")
    assert "Monday, February 23rd at 4:30 PM" in said and "Would that work?" in said


# -- 7. a change or cancellation of a booking the caller may not have ---------------------------------------

@pytest.mark.parametrize("said", ["um can i move my friday appointment to monday instead same time",
                                  "hey i cant make it this afternoon anymore", "i need to cancel my appointment"])
async def test_no_ticket_to_change_a_booking_the_caller_does_not_have(engine, said):
    reply = await say(engine, said)
    assert "couldn't find an upcoming appointment for the number ending in 4 5 6 7" in reply
    assert TICKET_OPENED not in reply and "book" in reply and not engine.state.handed_over
    assert "What day and time" in await say(engine, "yes please")


async def test_a_change_names_the_booking_the_team_will_change(engine):
    await say(engine, "book me friday at three, name's dave")
    await say(engine, "yes")
    reply = await say(engine, "um can i move my friday appointment to monday instead same time")
    assert "tomorrow, February 20th at 3 PM" in reply and BOOKING_CHANGE_BY_HUMAN in reply and TICKET_OPENED in reply


# -- 8. a filler between "at" and the hour -----------------------------------------------------------------

@pytest.mark.parametrize(("other_day", "time"), [("oh ok monday then at like ten", "10 AM"),
                                                 ("monday around like eleven", "11 AM"),
                                                 ("maybe monday at say nine", "9 AM")])
async def test_a_filler_before_the_hour_keeps_the_time(engine, other_day, time):
    assert "closed on Saturdays" in await say(engine, "can i come in saturday morning")
    assert await say(engine, other_day) == ASK_NAME  # "at like ten" got "What time works for you on that day?"
    assert f"Rachel, Monday, February 23rd at {time}" in await say(engine, "rachel")


# -- 9. a name said mid-sentence; a day changed while the name is asked for ------------------------------

@pytest.mark.parametrize("request_", ["i need to book a call with somebody monday at eleven names tom becker",
                                      "monday at eleven please, the names tom becker"])
async def test_names_said_for_name_s_is_the_name(engine, request_):
    # "...monday at eleven names tom becker" got "Can I have your name, please?": the name was lost
    said = await say(engine, request_)
    assert "an appointment for Tom Becker, Monday, February 23rd at 11 AM" in said
    corrected = await say(engine, "no sorry i meant wednesday not monday")
    assert "an appointment for Tom Becker, Wednesday, February 25th at 11 AM" in corrected


@pytest.mark.parametrize("correction", ["no sorry i meant wednesday not monday", "actually make it wednesday",
                                        "can we do wednesday instead"])
async def test_a_day_changed_while_the_name_is_asked_keeps_the_time_and_asks_the_name_again(engine, correction):
    assert await say(engine, "i need to book a call with somebody monday at eleven") == ASK_NAME
    said = await say(engine, correction)  # was "Sorry, I didn't catch your name"
    assert said == "Okay, Wednesday, February 25th at 11 AM. Can I have your name, please?"
    assert "an appointment for Tom, Wednesday, February 25th at 11 AM" in await say(engine, "tom")


# -- 10. a booking for someone else; a time the recogniser wrote as 1030 ------------------------------------

@pytest.mark.parametrize(("said", "name"), [("its for my boss actually um put it under carla mendes", "Carla Mendes"),
                                            ("its for my boss, carla mendes", "Carla Mendes"),
                                            ("book it under carla mendes please", "Carla Mendes"),
                                            ("it is for my wife sarah", "Sarah")])
async def test_a_name_given_with_whom_the_booking_is_for_is_the_name(engine, said, name):
    # "1030" is how the recogniser writes "ten thirty"
    assert await say(engine, "i wanna book uh february twenty fourth at 1030") == ASK_NAME
    # "...put it under carla mendes" got "Sorry, I didn't catch your name"
    assert f"an appointment for {name}, Tuesday, February 24th at 10:30 AM" in await say(engine, said)


# -- 11. a time said before the day -----------------------------------------------------------------------

@pytest.mark.parametrize(("day", "when"), [("not today friday", "tomorrow, February 20th at noon"),
                                           ("friday", "tomorrow, February 20th at noon"),
                                           ("monday please", "Monday, February 23rd at noon"),
                                           ("today", "today at noon")])
async def test_a_time_said_without_a_day_asks_the_day_and_keeps_the_time(engine, day, when):
    # "do you have anything at noon" got "Can I have your name?" (today assumed, unsaid); "not today friday" then
    # listed Friday's times: noon was lost
    assert await say(engine, "do you have anything at noon") == "Sure. Which day would you like to come in at noon?"
    assert await say(engine, day) == ASK_NAME
    assert f"an appointment for Beatrice Lang, {when}" in await say(engine, "beatrice lang")


# -- 12. the next free time, whatever the day --------------------------------------------------------------

@pytest.mark.parametrize("question", ["whens your next opening", "what's your next available slot",
                                      "when can you fit me in", "earliest you can see me"])
async def test_asking_for_the_next_opening_offers_the_first_free_times(engine, question):
    # "whens your next opening" looked up the caller's bookings: "I couldn't find an upcoming appointment..."
    offered = await say(engine, question)
    assert offered == "The next free times are today at 10:30 AM, 11 AM or 11:30 AM. Which one works for you?"
    assert await say(engine, "the first one") == ASK_NAME
    assert "an appointment for Wes, today at 10:30 AM" in await say(engine, "its wes")
    assert "scheduled your appointment for today at 10:30 AM" in await say(engine, "sounds good")


async def test_the_next_opening_asked_for_while_the_day_is_asked_is_offered(engine):
    await say(engine, "hi id like to book a consultation")
    assert "The next free times are today at 10:30 AM" in await say(engine, "what's your next available slot")
    assert await say(engine, "the second one") == ASK_NAME  # the middle of three (it took the last)
    assert "an appointment for Wes, today at 11 AM" in await say(engine, "wes")


# -- 13. the caller's own booking, by whatever name; moved right after it was read out ---------------------

@pytest.mark.parametrize("question", ["what time is my thing tomorrow", "whens my slot", "what time is my time",
                                      "what time is my appointment thing"])
async def test_what_time_is_my_thing_reads_out_the_booking(engine, question):
    await say(engine, "book me friday at three, name's dave")
    await say(engine, "yes")
    # "what time is my thing tomorrow" got "I'm not sure about that one"
    assert "You have an appointment tomorrow, February 20th at 3 PM" in await say(engine, question)


@pytest.mark.parametrize("change", ["can i push it an hour later", "could you make it an hour earlier"])
async def test_a_shift_right_after_the_read_out_is_a_change_of_that_booking(engine, change):
    await say(engine, "book me friday at three, name's dave")
    await say(engine, "yes")
    await say(engine, "what time is my thing tomorrow")
    reply = await say(engine, change)
    assert "tomorrow, February 20th at 3 PM" in reply and BOOKING_CHANGE_BY_HUMAN in reply and TICKET_OPENED in reply


# -- 14. a yes to booking one, after a change of a booking the caller does not have -----------------------

@pytest.mark.parametrize(("change", "day"), [("hey can i move my appointment to thursday instead same time",
                                              "Thursday, February 26th"),
                                             ("i need to reschedule my booking to monday", "Monday, February 23rd")])
async def test_yes_to_booking_one_keeps_the_day_the_change_asked_for(engine, change, day):
    assert "Would you like to book one?" in await say(engine, change)
    asked = await say(engine, "yes")  # was "What day and time would you like?": the day said was lost
    assert asked.startswith(f"Sure, {day}. What time works for you?")
    assert await say(engine, "eleven") == ASK_NAME
    assert f"an appointment for Tom, {day} at 11 AM" in await say(engine, "tom")


async def test_a_question_about_the_offered_times_after_a_sigh_is_answered(engine):
    await say(engine, "do you have anything at like six thirty in the evening on wednesday")
    said = await say(engine, "ugh ok whats the latest you got that day")  # was "Can I have your name?", no time said
    assert "The latest I have is Wednesday, February 25th at 4:30 PM. Would that work?" in said
    assert await say(engine, "ok four thirty then") == ASK_NAME


async def test_a_stuttered_for_before_the_day_is_no_name(engine):
    # "book a a meeting for for monday" then "uh like eleven ish" read back "an appointment for For"
    await say(engine, "um yeah so like i wanna uh book a a meeting for for monday")
    assert await say(engine, "uh like eleven ish") == ASK_NAME


async def test_its_for_and_a_name_is_the_name_without_for(engine):
    # "four thirty then its for bernadette" was booked for "For Bernadette"
    assert await say(engine, "can i get tomorrow afternoon") != ""
    assert "an appointment for Bernadette, tomorrow" in await say(engine, "four thirty then its for bernadette")
