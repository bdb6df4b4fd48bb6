"""Benchmarks (not tests): ``python -m bench.catalog``."""

import os

# Every BFF a benchmark starts serves /bench/hello, the floor the figures are measured against.
os.environ.setdefault("BENCH_ENDPOINTS", "true")
