"""Drawing a template's numbers from domains that its conditions have narrowed first.

Drawing every number and then testing the conditions refuses most draws when a condition is
rare (``x % y == 0``, ``is_int(total / parts)``, ``a + b <= 100``). Here the numbers are drawn
in the order the file declares them, and a single number's domain is first cut down to the
values that keep every condition whose other numbers are already drawn::

    y from range(2, 20)         -> 7
    x from range(10, 500)       -> narrowed by 'x % y == 0' to 14, 21, ..., 497 -> 140

A condition over one number alone narrows its domain once per template; one over numbers
drawn earlier narrows it once per combination of their values (kept, so later draws with the
same values cost nothing). Draws of several values at once (``sample(names, 2)``) and domains
larger than ``NARROW_LIMIT`` are drawn as they are, and the conditions over them are tested
as soon as their numbers are drawn, so a draw that breaks one stops there.

Each number is uniform over what the conditions leave it given the numbers before it (not
uniform over all solutions at once, as refusing whole draws was). Nothing is relaxed: every
condition is still tested on every instance. ``generator.specialised`` writes this plan out
as code, once per template; the limits are here.
"""

from __future__ import annotations

NARROW_LIMIT = 2_000  # values tested to narrow one domain; beyond, drawing then testing is cheaper
_MEMO_LIMIT = 50_000  # narrowed domains kept per template
