"""Benchmarks (outside the test suite): `make bench` runs `python -m benchmarks.run_all`."""
