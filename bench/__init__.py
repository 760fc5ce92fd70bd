"""Velox benchmarks: `python -m bench` measures the engine and writes `bench/RESULTS.md`."""
