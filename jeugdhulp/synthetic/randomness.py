"""Seeded random sources: every part of the world draws from its own keyed stream, so output is reproducible."""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")


def derive_seed(seed: int, *keys: object) -> int:
    """A 64-bit seed from the run seed and a key path; independent of hash randomisation."""
    text = "|".join([str(seed), *(str(key) for key in keys)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def rng_for(seed: int, *keys: object) -> random.Random:
    """A private generator for one named part of the world (a partition, a provider, ...)."""
    return random.Random(derive_seed(seed, *keys))


def poisson(rng: random.Random, mean: float) -> int:
    """Poisson draw: Knuth's method for small means, a rounded normal for large ones."""
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class WeightedChoice:
    """Repeated weighted draws from a fixed list, with the cumulative weights computed once."""

    __slots__ = ("items", "_cumulative", "_total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if len(items) != len(weights) or not items:
            raise ValueError("WeightedChoice needs as many weights as items, and at least one item")
        self.items = tuple(items)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]
        if self._total <= 0:
            raise ValueError("WeightedChoice needs a positive total weight")

    def draw(self, rng: random.Random) -> T:
        return self.items[bisect_right(self._cumulative, rng.random() * self._total)]

    def __len__(self) -> int:
        return len(self.items)
