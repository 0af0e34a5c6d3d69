"""mathgen: exact, sensible perturbation of grade-school math word problems.

Public API::

    from mathgen import load_problems, perturb
    problems = load_problems("test.jsonl")            # Problem or Rejection per row
    for result in perturb(problems, strategy="similar", n=3, seed=0):
        ...                                           # Variant(s) or a Rejection per problem
"""

__version__ = "0.1.0"

from mathgen.errors import InputError, MathgenError  # noqa: E402
from mathgen.records import Problem, Rejection, Variant  # noqa: E402


def load_problems(path, format=None, skip_invalid=False):
    """Read an input file into Problems (or Rejections for rows that cannot be used)."""
    from mathgen.formats import load_problems as _load

    return _load(path, format=format, skip_invalid=skip_invalid)


def perturb(problems, **options):
    """Perturb Problems; yields one list of Variants or one Rejection per problem."""
    from mathgen.generator import perturb_all

    return perturb_all(problems, **options)


__all__ = [
    "InputError",
    "MathgenError",
    "Problem",
    "Rejection",
    "Variant",
    "load_problems",
    "perturb",
    "__version__",
]
