"""Publishing to municipalities: suppressed per-municipality files, a Dutch report, PostgreSQL with RLS."""

from jeugdhulp.publish.run import PublishReport, publish

__all__ = ["PublishReport", "publish"]
