"""Problem -> symbolic form -> new values -> rendered variant (or a Rejection with a reason)."""

from .perturb import perturb_all, perturb_problem, sample
from .strategies import NAMES as STRATEGIES
from .symbolic import SymbolicProblem, build

__all__ = ["STRATEGIES", "SymbolicProblem", "build", "perturb_all", "perturb_problem", "sample"]
