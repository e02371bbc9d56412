"""Data quality: Great Expectations suites, the findings of iJw rules, and check summaries."""
