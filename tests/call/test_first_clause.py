"""The tuned TTS text aggregation: a reply's first clause goes out early, the rest in sentences."""

from __future__ import annotations

from voiceagent.call.clauses import FirstClauseTextAggregator


async def pieces(aggregator: FirstClauseTextAggregator, tokens: list[str]) -> list[str]:
    out = []
    for token in tokens:
        out += [piece.text async for piece in aggregator.aggregate(token)]
    rest = await aggregator.flush()
    return out + ([rest.text] if rest else [])


async def test_the_first_clause_is_released_before_its_sentence_ends():
    aggregator = FirstClauseTextAggregator()
    tokens = ["The Pro", " plan is", " $99 a", " month,", " with 10,000", " minutes. Anything", " else, at all?"]
    assert await pieces(aggregator, tokens) == [
        "The Pro plan is $99 a month,", "with 10,000 minutes.", "Anything else, at all?"]


async def test_short_openers_and_numbers_do_not_split():
    aggregator = FirstClauseTextAggregator()
    assert await pieces(aggregator, ["Sure, we open at 9:30 and have 10,000 seats."]) == [
        "Sure, we open at 9:30 and have 10,000 seats."]


async def test_each_reply_and_each_interruption_starts_with_a_clause_again():
    aggregator = FirstClauseTextAggregator()
    first = await pieces(aggregator, ["Our support team is here, day and night."])
    async for _ in aggregator.aggregate("Hours are nine to five"):
        pass
    await aggregator.handle_interruption()
    second = await pieces(aggregator, ["Phone support is open weekdays, nine to five."])
    assert first == ["Our support team is here,", "day and night."]
    assert second == ["Phone support is open weekdays,", "nine to five."]
