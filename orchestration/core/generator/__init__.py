"""Synthetic landing-zone generator: `generate(out, profile, seed, as_of)` writes iJw, reference, accountability and PGB files plus ground truth."""

from orchestration.core.generator.engine import GenerationError, GenerationSummary, generate
from orchestration.core.generator.profiles import PROFILES, ProfileError

__all__ = ["PROFILES", "GenerationError", "GenerationSummary", "ProfileError", "generate"]
