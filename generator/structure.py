"""What the shape of a worked solution says about its numbers.

Some solutions hold a number in their shape rather than in a literal: an average that adds
up five scores one by one and divides by the question's 5 would divide the same five scores
by 7 once the 5 became 7. Such a count keeps its value. And a ratio of the question ('2 times
more') is never a number of things: a solution that adds it to points has read some other 2.
"""

from __future__ import annotations

from mathgen.errors import UnsupportedProblem
from mathgen.expressions import const, subtrees


def check_ratios(chosen, steps: list[tuple], describe: list[str], ratios: set[str]) -> None:
    """Refuse a ratio of the question ('2 times more', written once: a name in ``ratios``)
    added to or taken from anything but 1 in a calculation (``steps`` with ``("lit", k)``
    leaves read as ``chosen[k]``): '81 points + 2 points' is some other 2 that equals it."""
    for tree in steps:
        for part in subtrees(tree):
            if part[0] not in ("add", "sub"):
                continue
            for this, other in ((part[1], part[2]), (part[2], part[1])):
                if this[0] == "lit" and chosen[this[1]].tree[0] == "sym" \
                        and chosen[this[1]].tree[1] in ratios \
                        and not (other[0] == "lit" and chosen[other[1]].tree == const(1)):
                    raise UnsupportedProblem("unexplained-number", f"{describe[this[1]]} would "
                                             "be a ratio of the question added to a quantity")


def counted_terms(steps, variables):
    """A variable that divides a sum of as many terms as its value ('65 + 94 + 81 + 86 + 74'
    over the question's 5 tests): the count of what the sum lists, which cannot change
    without the list. None if there is none. ``steps`` are trees over variables and earlier
    results (by name): the sum is written where it is divided, or is the result divided."""
    trees = {step.name: step.tree for step in steps}
    values = {v.name: v.value for v in variables if v.derived is None}

    def terms(tree) -> int:
        return terms(tree[1]) + terms(tree[2]) if tree[0] == "add" else 1

    for step in steps:
        for part in subtrees(step.tree):
            if part[0] == "div" and part[2][0] == "sym" and part[2][1] in values:
                total = part[1]
                count = terms(trees.get(total[1], total) if total[0] == "sym" else total)
                if count > 1 and values[part[2][1]] == count:
                    return part[2][1]
    return None
