"""Keyed pseudonymisation of the BSN: the raw number never reaches the warehouse."""

from __future__ import annotations

import hashlib
import hmac


class Pseudonymiser:
    """HMAC-SHA256 of the BSN under a secret key, as 32 hex characters (128 bits)."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("a pseudonymisation key is required")
        self._key = key.encode("utf-8")
        self._cache: dict[str, str] = {}

    def __call__(self, bsn: str) -> str:
        # Youths recur in every message; the cache saves most HMACs on a national run.
        found = self._cache.get(bsn)
        if found is None:
            found = hmac.new(self._key, bsn.encode("ascii"), hashlib.sha256).hexdigest()[:32]
            self._cache[bsn] = found
        return found
