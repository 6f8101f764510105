"""backcheck's benchmarks: generated virtual webs, no-op baseline spiders, and runners.

Not part of the test suite; run `python -m bench.run --pages 2000` (verify) or
`python -m bench.crawl --pages 2000` (the domain-list crawl); see bench/README.md.
"""
