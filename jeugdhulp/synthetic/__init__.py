"""Synthetic landing-zone generator: `generate(out, profile, seed, as_of)` writes iJw, reference, accountability and PGB files plus ground truth."""

from jeugdhulp.synthetic.engine import GenerationError, GenerationSummary, generate
from jeugdhulp.synthetic.profiles import PROFILES, ProfileError

__all__ = ["PROFILES", "GenerationError", "GenerationSummary", "ProfileError", "generate"]
