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


def _forms():
    from mathgen.errors import UnsupportedProblem
    from mathgen.formats import load_problems
    from mathgen.generator import build
    from mathgen.generator.run import example_problems
    from mathgen.records import Problem

    out = []
    for problem in load_problems(example_problems()):
        if isinstance(problem, Problem):
            try:
                out.append(build(problem))
            except UnsupportedProblem:  # a rejected example has no form to compile
                continue
    return out


FORMS = _forms()


@given(form=st.sampled_from(FORMS), data=st.data())
def test_a_step_alone_gives_what_the_whole_problem_gives(form, data):
    """Compiled.step(k) over any values: the same result as ``values``; where it raises,
    so does ``values`` (which computes the same expressions, and more)."""
    from mathgen.generator.perturb import Compiled
    from mathgen.generator.search import EVAL_ERRORS

    compiled = Compiled(form)
    free = [v for v in form.variables if v.derived is None]
    drawn = [data.draw(st.one_of(st.integers(-50, 5000), st.fractions(-50, 5000, max_denominator=100)))
             for _ in free]
    try:
        whole = compiled.values(*drawn)
    except EVAL_ERRORS:
        whole = None
    for k in range(len(form.steps)):
        try:
            alone = compiled.step(k)(*drawn)
        except EVAL_ERRORS:
            assert whole is None
            continue
        if whole is not None:
            assert alone == whole[1][k] and type(alone) is type(whole[1][k])
