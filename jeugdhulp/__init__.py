"""jeugdhulp: the domain library of the youth-care reporting pipeline (no Dagster here)."""
