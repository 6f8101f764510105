"""backcheck's Scrapy project (settings, spider, pipeline) and its command line."""

import os

# tldextract (used by Scrapy's cookie middleware and by the verifier) must never
# try to download the public suffix list: machines are offline and verdicts must
# not depend on when the list was fetched. Set before anything builds an extractor.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

__version__ = "0.1.0"
