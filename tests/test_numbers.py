"""Number mentions in text, and writing numbers back in the same style."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathgen.numbers import find_mentions, format_like, plain, starts_with_vowel_sound


def only(text: str):
    """The single mention of ``text`` (fails when there is not exactly one)."""
    mentions = find_mentions(text)
    assert len(mentions) == 1, mentions
    return mentions[0]


def brief(mentions) -> list[tuple[str, F, str]]:
    return [(m.text, m.value, m.kind) for m in mentions]


# --- find_mentions: what is found, its value and kind ---------------------------------------

@pytest.mark.parametrize("text, expected", [
    # digits
    ("She has 16 eggs.", [("16", F(16), "digits")]),
    # any ordinal a fraction is written with, after 'a', 'an' or a count
    ("She spent a seventh of it.", [("a seventh", F(1, 7), "fraction")]),
    ("An eighth of the pie is left.", [("An eighth", F(1, 8), "fraction")]),
    ("Two-ninths of them came.", [("Two-ninths", F(2, 9), "fraction")]),
    ("It is the ninth day.", []),
    ("It cost 1,250 dollars.", [("1,250", F(1250), "digits")]),
    ("A city of 1,000,000 people", [("1,000,000", F(1000000), "digits")]),
    ("Add .5 cups of flour.", [(".5", F(1, 2), "digits")]),
    ("Pay 2.50 now.", [("2.50", F(5, 2), "digits")]),
    ("It is 1,250.75 in all.", [("1,250.75", F(5003, 4), "digits")]),
    ("Eggs cost $2.50 each.", [("2.50", F(5, 2), "digits")]),
    ("Take 20% off.", [("20", F(20), "digits")]),
    ("Take 20 percent off.", [("20", F(20), "digits")]),
    ("A 5kg bag of rice", [("5", F(5), "digits")]),
    # fractions
    ("Eat 1/2 of it.", [("1/2", F(1, 2), "fraction")]),
    ("Use 2 1/2 cups.", [("2 1/2", F(5, 2), "fraction")]),
    ("two-thirds of the class", [("two-thirds", F(2, 3), "fraction")]),
    ("three quarters of the pie", [("three quarters", F(3, 4), "fraction")]),
    # number words
    ("three apples", [("three", F(3), "word")]),
    ("twelve eggs", [("twelve", F(12), "word")]),
    ("twenty-five cats", [("twenty-five", F(25), "word")]),
    ("two hundred and six pages", [("two hundred and six", F(206), "word")]),
    ("one thousand two hundred steps", [("one thousand two hundred", F(1200), "word")]),
    # multipliers
    ("half of them", [("half", F(1, 2), "multiplier")]),
    ("twice as many", [("twice", F(2), "multiplier")]),
    ("double the number", [("double", F(2), "multiplier")]),
    ("triple the price", [("triple", F(3), "multiplier")]),
    ("a dozen eggs", [("a dozen", F(12), "multiplier")]),
    # not quantities at all
    ("We met at 7:30 pm.", []),
    ("On the 2nd day", []),
    ("The 1st and 3rd rows", []),
    ("Wake up at 10am.", []),
    ("No numbers here.", []),
    ("", []),
    # several in one sentence, left to right
    ("She sells eggs for $2.50 each, a dozen a day, 20% off",
     [("2.50", F(5, 2), "digits"), ("a dozen", F(12), "multiplier"), ("20", F(20), "digits")]),
])
def test_find_mentions(text, expected):
    assert brief(find_mentions(text)) == expected


@pytest.mark.parametrize("text, flags", [
    ("It cost 1,250 dollars.", dict(commas=True, places=0, money=False, percent=False)),
    ("Add .5 cups.", dict(commas=False, places=1)),
    ("Pay 2.50 now.", dict(places=2, money=False)),
    ("Eggs cost $2.50 each.", dict(places=2, money=True, percent=False)),
    ("It costs $ 5.", dict(money=True)),
    ("Take 20% off.", dict(percent=True, money=False)),
    ("Take 20 percent off.", dict(percent=True)),
    ("Take 20 per cent off.", dict(percent=True)),
    ("Twenty percent of them", dict(percent=True, capitalized=True, kind="word")),
    ("Three cats", dict(capitalized=True, kind="word")),
    ("three cats", dict(capitalized=False, kind="word")),
    ("A dozen eggs", dict(capitalized=True, kind="multiplier")),
])
def test_mention_flags(text, flags):
    mention = only(text)
    assert {name: getattr(mention, name) for name in flags} == flags


@pytest.mark.parametrize("text, quantity", [
    ("16 eggs", True),
    ("three eggs", True),
    ("1/2 of it", False),
    ("two-thirds of it", False),
    ("half of it", False),
    ("a dozen eggs", False),
])
def test_only_digits_and_words_are_quantities(text, quantity):
    assert only(text).quantity is quantity


def test_mention_spans_point_at_the_text():
    text = "She sells 1,250 eggs for $2.50 each, twenty-five a day and 2 1/2 dozen more."
    for m in find_mentions(text):
        assert text[m.start:m.end] == m.text


@pytest.mark.parametrize("text, expected", [
    ("60/100", [("60", 0, 2), ("100", 3, 6)]),
    ("She ate 3/4 of it", [("3", 8, 9), ("4", 10, 11)]),
    ("2 1/2 cups", [("2", 0, 1), ("1", 2, 3), ("2", 4, 5)]),
    # a number after a word and a slash divides it: '15 minutes/1.5 minutes'
    ("15 minutes/1.5 minutes", [("15", 0, 2), ("1.5", 11, 14)]),
    ("6/1.5=4", [("6", 0, 1), ("1.5", 2, 5), ("4", 6, 7)]),
    ("15/.3=50", [("15", 0, 2), (".3", 3, 5), ("50", 6, 8)]),
])
def test_find_mentions_without_fractions_splits_them(text, expected):
    mentions = find_mentions(text, fractions=False)
    assert [(m.text, m.start, m.end) for m in mentions] == expected
    assert all(m.kind == "digits" and m.value == F(m.text) for m in mentions)


def test_find_mentions_with_fractions_keeps_them_whole():
    assert brief(find_mentions("60/100")) == [("60/100", F(3, 5), "fraction")]


# --- plain ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (F(18), "18"),
    (F(0), "0"),
    (F(-7), "-7"),
    (F(5, 2), "2.5"),
    (F(-15, 4), "-3.75"),
    (F(-1, 2), "-0.5"),
    (F(1, 8), "0.125"),
    (F(1, 1000), "0.001"),
    (F(1234567, 100), "12345.67"),
    (F(10, 3), "10/3"),
    (F(-10, 3), "-10/3"),
    (F(1, 7), "1/7"),
])
def test_plain(value, expected):
    assert plain(value) == expected


@given(st.fractions())
def test_plain_round_trips(value):
    assert F(plain(value)) == value


# --- format_like ------------------------------------------------------------------------

@pytest.mark.parametrize("value, like, expected", [
    # commas kept
    (F(2500), "It cost 1,250 dollars.", "2,500"),
    (F(1234567), "It cost 1,250 dollars.", "1,234,567"),
    (F(-1250), "It cost 1,250 dollars.", "-1,250"),
    (F(999), "It cost 1,250 dollars.", "999"),
    # no commas when the original had none
    (F(2500), "It cost 1250 dollars.", "2500"),
    # decimal places kept
    (F(4), "It costs $3.50.", "4.00"),
    (F(7, 2), "It costs $3.50.", "3.50"),
    (F(1, 4), "It costs $3.50.", "0.25"),
    (F(3), "Add .5 cups.", "3.0"),
    # non-terminating values are written exactly
    (F(10, 3), "It costs 3.50 dollars.", "10/3"),
    # words stay words under 100, with the original's capitalization
    (F(4), "three apples", "four"),
    (F(45), "three apples", "forty-five"),
    (F(45), "Three apples", "Forty-five"),
    (F(31), "Twenty-five apples", "Thirty-one"),
    (F(99), "three apples", "ninety-nine"),
    (F(0), "three apples", "zero"),
    # ... and become digits from 100 up
    (F(100), "three apples", "100"),
    (F(150), "three apples", "150"),
])
def test_format_like(value, like, expected):
    assert format_like(value, only(like)) == expected


@pytest.mark.parametrize("value, options, expected", [
    (F(1234567), {}, "1234567"),
    (F(1234567), {"commas": True}, "1,234,567"),
    (F(3), {"places": 2}, "3.00"),
    (F(5, 2), {"places": 0}, "2.5"),  # places is a minimum: the value is never rounded
    (F(-3, 4), {"places": 3}, "-0.750"),
])
def test_format_like_without_a_mention(value, options, expected):
    assert format_like(value, **options) == expected


@given(st.fractions(min_value=-10**9, max_value=10**9).filter(
    lambda v: plain(v).count("/") == 0))
def test_format_like_keeps_the_value(value):
    mention = only("It cost 1,250.50 dollars.")
    assert F(format_like(value, mention).replace(",", "")) == value


# --- starts_with_vowel_sound ------------------------------------------------------------

@pytest.mark.parametrize("rendered, expected", [
    ("8", True),
    ("11", True),
    ("18", True),
    ("80", True),
    ("800", True),
    ("8.5", True),
    ("$8", True),
    ("11,000", True),
    ("18,500", True),
    ("11000", True),
    ("1", False),
    ("2", False),
    ("100", False),
    ("110", False),
    ("1,800", False),
    ("1100", False),
    ("110000", False),
    ("eight", True),
    ("eleven", True),
    ("twelve", False),
    ("", False),
    pytest.param("one", False),
    pytest.param("11000000000", True),
])
def test_starts_with_vowel_sound(rendered, expected):
    assert starts_with_vowel_sound(rendered) is expected


# --- properties -------------------------------------------------------------------------

_PIECES = st.sampled_from(
    list("0123456789 ,./:$%-") + ["a", "A", "half", "percent", "twenty", "hundred", "and",
                                  "a dozen", "two", "thirds", "kg", "nd", "\u0661", "\n"])
_TEXT = st.one_of(st.text(), st.lists(_PIECES, max_size=30).map("".join))


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.booleans())
def test_find_mentions_never_raises_and_spans_match(text, fractions):
    previous_end = 0
    for m in find_mentions(text, fractions=fractions):
        assert m.text == text[m.start:m.end]
        assert m.start < m.end and m.start >= previous_end  # left to right, no overlap
        previous_end = m.end
        assert m.kind in ("digits", "word", "fraction", "multiplier")
        assert isinstance(m.value, F)
