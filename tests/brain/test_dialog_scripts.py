"""The offline dialog engine over whole conversations, at text level, with the real tools and knowledge base."""

from __future__ import annotations

import pytest

from tests.brain.talk import build_engine, new_database, say
from voiceagent.brain.dialog import CLOSING, DID_NOT_CATCH, LISTENING_CUE


@pytest.fixture(params=["classifier", "regex"])
def make_engine(tmp_path, runtime, request):
    """The engine as served (intent classifier on the runtime's MiniLM), and with the regex layer alone."""
    intents = runtime.intents if request.param == "classifier" else None
    database = new_database(tmp_path)
    return lambda caller="+15551234567", call_sid="CA1": build_engine(database, runtime, intents, caller, call_sid)


async def test_pricing_question_gets_the_plan_facts(make_engine):
    reply = await say(make_engine(), "Um, how much does the pro plan cost?")
    assert "$99" in reply and "10,000" in reply


async def test_unknown_question_says_it_does_not_know(make_engine):
    reply = await say(make_engine(), "What's the weather like in Paris?")
    assert "not sure" in reply


async def test_booking_over_several_turns_then_checking_it(make_engine):
    engine = make_engine()
    assert "What day and time" in await say(engine, "I'd like to book an appointment.")
    assert "What time" in await say(engine, "Next Tuesday please.")
    assert "your name" in await say(engine, "At ten thirty.")
    confirm = await say(engine, "It's Maria Lopez.")
    assert "Maria Lopez" in confirm and "Tuesday, February 24th at 10:30 AM" in confirm and "Shall I book" in confirm
    booked = await say(engine, "Yes, please.")
    assert "Great! I've scheduled your appointment for Tuesday, February 24th at 10:30 AM." in booked
    checked = await say(make_engine(call_sid="CA2"), "Can you check my appointment?")
    assert "Tuesday, February 24th at 10:30 AM" in checked


async def test_booking_in_one_sentence_and_a_closed_day(make_engine):
    engine = make_engine()
    reply = await say(engine, "Can I book an appointment for Sunday at 2pm? My name is Sam Carter.")
    assert "closed on Sundays" in reply and "Monday, February 23rd at 9 AM" in reply
    confirm = await say(engine, "Monday at 9 then.")
    assert "Sam Carter" in confirm and "Monday, February 23rd at 9 AM" in confirm
    assert "scheduled" in await say(engine, "Yes.")


async def test_saying_no_at_confirmation_asks_for_another_time(make_engine):
    engine = make_engine()
    await say(engine, "Book me for tomorrow at 2pm, name is Ann Lee.")
    assert "would work better" in await say(engine, "No.")
    assert "tomorrow, February 20th at 3 PM" in await say(engine, "3pm instead")


async def test_asking_for_a_human_escalates(make_engine):
    reply = await say(make_engine(), "Can I talk to a real person please?")
    assert "specialist will call you back" in reply and "4 5 6 7" in reply


async def test_three_misunderstandings_escalate(make_engine):
    engine = make_engine()
    assert await say(engine, "") == DID_NOT_CATCH
    assert await say(engine, "...") == DID_NOT_CATCH
    assert "specialist" in await say(engine, "")


async def test_goodbye_ends_the_call(make_engine):
    utterances = [u async for u in make_engine().respond("No, that's all, thanks. Bye!")]
    assert utterances[-1].text == CLOSING.format(business="ByteAI") and utterances[-1].end_call


async def test_a_slow_lookup_is_preceded_by_a_listening_cue(make_engine, monkeypatch):

    engine = make_engine()
    original = engine._knowledge

    class Slow:
        def best_answer(self, query):
            import time
            time.sleep(0.5)
            return original.best_answer(query)

    engine._knowledge = Slow()
    utterances = [u async for u in engine.respond("How much is the business plan?")]
    assert utterances[0].text == LISTENING_CUE and utterances[0].kind == "cue"
    assert "$299" in utterances[1].text


async def test_a_trailing_fragment_completes_the_question_whose_answer_was_not_heard(make_engine):
    engine = make_engine()
    [u async for u in engine.respond("How much does the Pro plan cost per month")]  # reply cut off by the caller
    answers = [u.text async for u in engine.respond("please", unanswered="How much does the Pro plan cost per month")
               if u.kind == "answer"]
    assert "$99" in " ".join(answers)


async def test_a_new_request_after_an_unheard_reply_stands_on_its_own(make_engine):
    engine = make_engine()
    answers = [u.text async for u in engine.respond("Actually, what are your business hours?",
                                                    unanswered="How much does the Pro plan cost") if u.kind == "answer"]
    assert "$99" not in " ".join(answers) and "9" in " ".join(answers)


def test_unanswered_caller_words_are_the_caller_messages_before_the_newest():
    from pipecat.processors.aggregators.llm_context import LLMContext

    from voiceagent.brain.service import last_caller_text, unanswered_caller_text

    context = LLMContext(messages=[
        {"role": "user", "content": "What are your hours?"},
        {"role": "assistant", "content": "We're open nine to six."},
        {"role": "user", "content": "How much does the Pro plan cost per month"},
        {"role": "user", "content": "please"},
    ])
    assert last_caller_text(context) == "please"
    assert unanswered_caller_text(context) == "How much does the Pro plan cost per month"
    context.add_message({"role": "assistant", "content": "It's $99 a month."})
    context.add_message({"role": "user", "content": "thanks"})
    assert unanswered_caller_text(context) == ""


async def test_callers_correct_the_time_and_offer_days_in_their_own_words(make_engine):
    engine = make_engine()
    await say(engine, "I want to schedule an appointment")
    await say(engine, "How about Wednesday?")
    await say(engine, "Two in the afternoon")
    assert "Sarah Connor, Wednesday, February 25th at 2 PM" in await say(engine, "Sarah Connor")
    corrected = await say(engine, "No, make it three instead")  # a bare hour offered as a correction
    assert "Wednesday, February 25th at 3 PM" in corrected and "Shall I book" in corrected
    assert "at 3 PM" in await say(engine, "Yes that's right")

    other = make_engine(caller="+15559876543", call_sid="CA3")
    assert "What time" in await say(other, "I need to see someone on the 30th")  # a meeting, not a hand-off
    await say(other, "10 am")
    await say(other, "It's Ahmed Khan")
    assert "March 30th at 11 AM" in await say(other, "Actually can we do 11 instead?")

    demo = make_engine(caller="+15550001234", call_sid="CA4")
    assert "Which day" in await say(demo, "Um so yeah I was hoping to get a demo at some point next week")
    await say(demo, "Tuesday would work, like around lunch")
    assert "Tuesday, February 24th at noon" in await say(demo, "Kim")


async def test_a_caller_who_missed_the_reply_hears_it_again_and_the_question_stays_open(make_engine):
    engine = make_engine()
    engine.greeting()
    assert "How can I help" in await say(engine, "Sorry, what?")
    answer = await say(engine, "How much is the Pro plan?")
    assert await say(engine, "Sorry, can you repeat that?") == f"Sure. {answer}"
    await say(engine, "I'd like to book an appointment tomorrow at 2pm")
    confirm = await say(engine, "Jane Doe")
    assert "Shall I book it?" in confirm
    assert await say(engine, "What was that?") == f"Sure. {confirm}"
    assert "I've scheduled your appointment" in await say(engine, "Yes")
    assert "go ahead" in await say(engine, "I have a question")


async def test_callers_answer_what_time_in_their_own_words(make_engine):
    # "What time works?" answered with a bare hour as speech recognition writes it.
    engine = make_engine()
    assert "What time" in await say(engine, "Book me in for next Friday.")
    assert "your name" in await say(engine, "Um, 2 o'clock?")
    assert "at 2 PM" in await say(engine, "It's Jordan.")
    # An availability question with only a part of the day: the agent asks for the hour instead of guessing 9 AM,
    # and an hour given while it asks for the name still counts.
    engine = make_engine(call_sid="CA2")
    assert "What time in the morning" in await say(engine, "Do you have anything tomorrow morning?")
    assert "your name" in await say(engine, "Hmm, maybe 11?")
    engine = make_engine(call_sid="CA3")
    await say(engine, "I'd like to book an appointment on Monday at 9.")
    assert "Monday, February 23rd at 10 AM" in await say(engine, "10 is fine, it's Dana Lee.")


async def test_openers_line_checks_and_questions_about_the_agent(make_engine):
    engine = make_engine()
    assert "$299" in await say(engine, "Yeah hi, um, so what's included in the business plan?")
    assert "I'm here" in await say(engine, "Hello? Is anyone there?")
    assert "AI assistant" in await say(engine, "Are you a robot?")
    assert "specialist" not in await say(engine, "Am I talking to a real person?")
    complaint = await say(make_engine(call_sid="CA2"), "Oh no, that's wrong.")
    assert "Have a great day" not in complaint and "what you need" in complaint


async def test_a_caller_who_changes_their_mind_mid_booking(make_engine):
    engine = make_engine()
    assert "What day and time" in await say(engine, "I want to book something.")
    assert "won't book anything" in await say(engine, "Actually never mind.")
    assert engine.state.booking is None


async def test_asking_for_the_hour_offers_free_times_of_that_day(make_engine):
    engine = make_engine()
    assert "What day and time" in await say(engine, "I'd like to book a call.")
    assert "I have 9 AM, 10 AM or 11 AM free" in await say(engine, "What times do you have on Friday?")
    await say(engine, "10 works.")
    await say(engine, "It's Jo Park.")
    assert "February 20th at 10 AM" in await say(engine, "Yes.")
    # The part of the day the caller named, and the slot just booked is no longer offered.
    offer = await say(make_engine(call_sid="CA2"), "Anything Friday morning?")
    assert "What time in the morning works for you? I have 9 AM, 9:30 AM or 10:30 AM free." in offer
    assert "I have" not in await say(make_engine(call_sid="CA3"), "Can I book something on Saturday?")  # closed
