"""The secret behind the top-10 case keys (marts.mart_top_clients), derived from the pseudonym key.

A case key is a per-municipality pseudonym of a client: SHA-256 over this secret, the
municipality code and the client_key (dbt_project/macros/case_key.sql). Without the secret a
case key cannot be linked to the warehouse's client_key, nor one municipality's case key of a
client to another's. The secret is an HMAC of a fixed label under the pseudonym key, so it needs
no key of its own and changes with it, while the pseudonym key itself never reaches dbt.

dbt gets it as the environment variable CASE_KEY_ENV: dbt keeps the values of DBT_ENV_SECRET_*
variables out of its logs and lets only the profile read them (dbt_project/profiles.yml hands it
to the DuckDB session through the plugin in jeugdhulp/privacy/case_key_dbt.py).
"""

from __future__ import annotations

import hashlib
import hmac

CASE_KEY_ENV = "DBT_ENV_SECRET_JEUGDHULP_CASE_KEY"
_LABEL = b"jeugdhulp/case-key/v1"


def case_key_secret(pseudonym_key: str) -> str:
    """The case-key secret for a pseudonym key: 64 hex characters."""
    if not pseudonym_key:
        raise ValueError("a pseudonymisation key is required")
    return hmac.new(pseudonym_key.encode("utf-8"), _LABEL, hashlib.sha256).hexdigest()


def case_key_env(pseudonym_key: str | None) -> dict[str, str]:
    """The environment entry that hands the secret to dbt ({} without a pseudonym key)."""
    return {CASE_KEY_ENV: case_key_secret(pseudonym_key)} if pseudonym_key else {}


def case_key(secret: str, municipality_code: str, client_key: str) -> str:
    """What dbt computes (macros/case_key.sql), for checks outside dbt."""
    text = f"{secret}|{municipality_code}|{client_key}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
