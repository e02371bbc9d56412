"""The one masking function: no BSN leaves jeugdhulp in a file name, path, header or message.

Ingestion replaces the BSNs of a file's *contents* by keyed pseudonyms (pseudonym.py). Names and
messages are free text, kept in the file registry, the quarantine reason files, the archive and
quarantine file names and the run reports handed to orchestration (and from there to Dagster's
logs): every such text passes `mask_bsns` at that boundary.

What is masked: every run of exactly nine ASCII digits (not part of a longer run of digits) that
passes the 11-proef. It becomes `BSN-masked`, with nothing that could lead back to the number
(not even its pseudonym: these texts are read by people). Longer digit runs (timestamps, IBANs)
and numbers failing the 11-proef are left as they are.
"""

from __future__ import annotations

import re
from typing import overload

from jeugdhulp.privacy.bsn import is_valid_bsn

BSN_MASK = "BSN-masked"

_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")


def _replace(match: re.Match[str]) -> str:
    number = match.group()
    return BSN_MASK if is_valid_bsn(number) else number


@overload
def mask_bsns(text: str) -> str: ...
@overload
def mask_bsns(text: None) -> None: ...


def mask_bsns(text: str | None) -> str | None:
    """`text` with every BSN in it replaced by `BSN-masked` (see the module docstring)."""
    if text is None or not _NINE_DIGITS.search(text):  # the usual case: one search, no copy
        return text
    return _NINE_DIGITS.sub(_replace, text)
