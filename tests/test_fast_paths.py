"""Fast paths of the draw loop answer exactly as the plain formulas they stand in for."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from mathgen.generator.quantities import Variable
from mathgen.generator.strategies import Shift, get

VALUES = st.one_of(st.integers(-10**18, 10**18), st.fractions(max_denominator=1000))


@given(original=VALUES, value=st.one_of(st.integers(-10**18, 10**18),
                                        st.fractions(max_denominator=1000)),
       mu=st.sampled_from([1000, 5, 0, -3, 2.5, 1e17]), sigma=st.sampled_from([300, 1, 0.3, 0.25]))
def test_shift_keeps_is_the_float_test_it_replaces(original, value, mu, sigma):
    var = Variable("n0", Fraction(original), (0,), False, 0, None)
    shift = Shift("s", mu, sigma)
    assert shift.keeps(var, value) == (abs(value - var.value - mu) <= 4 * sigma)


def test_the_mmos_strategies_take_the_whole_number_path():
    var = Variable("n0", Fraction(16), (0,), False, 0, None)
    for name in ("mmos-large", "mmos-similar"):
        strategy = get(name)
        assert strategy._whole is not None
        mu, reach = strategy._whole
        edge = 16 + mu + reach
        assert strategy.keeps(var, edge) and not strategy.keeps(var, edge + 1)
