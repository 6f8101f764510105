"""backcheck's pure logic: URL matching, page parsing, verdicts, imports, storage, reports.

Never imports scrapy, twisted or click (tests/test_layering.py enforces it).
"""
