"""backcheck's benchmark: a generated virtual web, a no-op baseline spider, and a runner.

Not part of the test suite; run `python -m bench.run --pages 2000` (see bench/README.md).
"""
