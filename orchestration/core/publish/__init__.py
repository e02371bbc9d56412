"""Publishing to municipalities: suppressed per-municipality files, a Dutch report, PostgreSQL with RLS."""

from orchestration.core.publish.run import PublishReport, publish

__all__ = ["PublishReport", "publish"]
