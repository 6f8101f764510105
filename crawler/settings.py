"""Scrapy settings for backcheck: a polite nightly re-crawl of known pages.

Scrapy's own defaults suit a one-off scrape, not a job that revisits other
people's pages every night, so most of them are overridden here.
"""

from scrapy.settings import default_settings

from crawler import __version__
from verifier.crawl.frontier import SESSION_PARAMS

BOT_NAME = "backcheck"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = f"backcheck/{__version__} (+https://github.com/backcheck/backcheck)"
ROBOTSTXT_OBEY = True

# Politeness: at most 2 requests per domain, AutoThrottle slows down further on slow hosts.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 2

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 10
RETRY_ENABLED = True
RETRY_TIMES = 2

# No state between pages (cookies), no remote code execution or telnet on the host.
COOKIES_ENABLED = False
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

LOG_LEVEL = "INFO"  # of the run's log file; the console shows warnings (`-v`: this level)
# Skips the per-page DEBUG records below DEBUG level (crawler/logformatter.py).
LOG_FORMATTER = "crawler.logformatter.LogFormatter"

ITEM_PIPELINES = {"crawler.pipelines.SQLitePipeline": 300}

# backcheck's own settings.
BACKCHECK_CHECK_TARGETS = True  # also check our own pages that backlinks point at (HEAD)
BACKCHECK_BATCH_SIZE = 500  # checks per database transaction
BACKCHECK_COMMIT_INTERVAL = 2.0  # seconds; a killed run loses at most this much work
# Plain `verify` also checks the competitors' backlinks (as `verify --competitors`), so
# that `report gap` is built on links that are live today.
BACKCHECK_VERIFY_COMPETITORS = False
BACKCHECK_MAX_FAILURES = 3  # page errors in a row before a backlink counts as lost
# Links inserted by JavaScript (issue 14 §1; crawler/render.py). BACKCHECK_RENDER: never
# (raw HTML only), auto (render a page whose raw HTML lacks the link and that runs a
# script), always (every readable page); `verify --render`, env BACKCHECK_RENDER.
# BACKCHECK_CHROMIUM: the browser (empty: `chromium` on PATH, or the
# `chromium-headless-shell` beside it); BACKCHECK_RENDER_PAGES: pages rendered at once;
# BACKCHECK_RENDER_RECYCLE: renders per browser context before a fresh one (a context
# grows: cache, storage);
# BACKCHECK_RENDER_TIMEOUT: seconds per render (DOWNLOAD_TIMEOUT does not bound a render).
# The browser's own requests skip known trackers (crawler/data/trackers.txt); the rest are
# fetched by Scrapy's downloader (robots.txt, user agent, the host's slot and delays).
BACKCHECK_RENDER = "auto"
BACKCHECK_CHROMIUM = ""
BACKCHECK_RENDER_PAGES = 4
BACKCHECK_RENDER_RECYCLE = 200
BACKCHECK_RENDER_TIMEOUT = 20.0
# An outage on the crawler's side (its network or DNS down) is not a night of lost links
# (verifier/verdict/outage.py). A run ends `degraded` when at least SHARE of its referring
# pages failed with dns_error, connection_error, timeout or tls_error across at least
# MIN_DOMAINS referring domains or, for smaller profiles, when at least TARGET_SHARE of
# the referring pages and of the site's own target pages (BACKCHECK_CHECK_TARGETS) failed
# so. Its checks stay in history but count for nothing: backlinks keep their last good
# verdict, failure streaks do not grow, the alert is one "run degraded" message and
# `verify` exits 1.
BACKCHECK_OUTAGE_ENABLED = True
BACKCHECK_OUTAGE_MIN_DOMAINS = 10
BACKCHECK_OUTAGE_SHARE = 0.5
BACKCHECK_OUTAGE_TARGET_SHARE = 0.9
# The re-check policy behind `verify --due` (verifier/verdict/recheck.py): days until a
# backlink is due again after a check. Live, followed and valuable links (vendor
# authority or referral visits at or above the thresholds) daily, other live ones every
# 3 days; unreachable ones at the next run after the first failure, then 1, 2, 4, 7 days
# while they keep failing (the last value repeats); lost ones weekly for 8 weeks, then
# monthly; spam (referral candidates never found linking) monthly. `verify --due` takes
# the most valuable due links first.
BACKCHECK_RECHECK_VALUABLE_DAYS = 1.0
BACKCHECK_RECHECK_LIVE_DAYS = 3.0
BACKCHECK_RECHECK_UNREACHABLE_DAYS = [0, 1, 2, 4, 7]
BACKCHECK_RECHECK_LOST_DAYS = 7.0
BACKCHECK_RECHECK_LOST_WEEKLY_FOR_DAYS = 56.0
BACKCHECK_RECHECK_LOST_LATER_DAYS = 30.0
BACKCHECK_VALUABLE_AUTHORITY = 50.0  # Ahrefs DR, Moz DA or Majestic TF (0-100), the highest
BACKCHECK_VALUABLE_VISITS = 10.0  # referral visits in the last 30 days (logs or GA4)
# `verify` also reads every page it parses for brand mentions (report lost's
# mentions_brand, outreach targets) and re-reads open outreach targets.
BACKCHECK_READ_MENTIONS = True
# Also read the pages that link to the site (mention rows with linked/placement for
# them); off, verify reads mentions only where the link is missing, which is where
# they serve (report lost, outreach), at a lower cost.
BACKCHECK_MENTIONS_ON_LINKING_PAGES = True
# Where verify reads pages for mentions: `auto` in each crawler's writer process, on
# another core, when the machine has a core more than the run has crawler processes (one
# crawler on 2 cores: +6 % wall time for mentions instead of +23 %), else in the crawler
# (two on 2 cores: +15 % instead of +35 %); `1` always in the writer, `0` never (as
# `verify --redis` workers do).
BACKCHECK_READ_MENTIONS_IN_WRITER = "auto"
# Pages are written by strangers: link-local addresses (169.254.0.0/16, the cloud
# metadata service, and fe80::/10) are never fetched, whatever a URL, redirect, link or
# DNS answer says (verifier/verdict/addresses.py). On, loopback, private and unique-local
# ranges are refused too; off by default, since verifying an intranet is legitimate.
BACKCHECK_REFUSE_PRIVATE_ADDRESSES = False

# `backcheck crawl` (a domain list): how many domains are open at once (each holds at
# most CONCURRENT_REQUESTS_PER_DOMAIN slots, so a slow one never starves the rest),
# sitemap files read per domain, and the URL-trap guards (verifier.crawl.frontier).
BACKCHECK_CRAWL_DOMAINS_AT_ONCE = 64
BACKCHECK_CRAWL_MAX_SITEMAPS = 20
BACKCHECK_CRAWL_MAX_URL_LENGTH = 2083  # characters; longer URLs are not fetched
BACKCHECK_CRAWL_MAX_SEGMENT_REPEATS = 2  # a path segment seen more often is a trap
BACKCHECK_CRAWL_MAX_QUERY_VARIANTS = 30  # distinct query strings per path (calendars, facets)
# Removed from URLs before they are fetched or compared (case-insensitive; `aspsessionid`
# also covers its suffixed forms).
BACKCHECK_CRAWL_SESSION_PARAMS = sorted(SESSION_PARAMS)

# Scrapy's, with CONCURRENT_REQUESTS_PER_DOMAIN enforced (see crawler/downloader.py).
DOWNLOADER = "crawler.downloader.Downloader"

DOWNLOADER_MIDDLEWARES = {
    # Replaces Scrapy's: see crawler/middlewares.py for the concurrency bug it fixes.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    # Replaces Scrapy's: reads a meta refresh anywhere in the page, as browsers do.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
    # Replaces Scrapy's: a Location header as browsers read it (WHATWG URL, UTS #46 hosts).
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectMiddleware": 600,
    # Not used by a revisit crawl (no credentials, no allowed_domains); each costs per request.
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # Refuses link-local (and optionally private) addresses; nearer the downloader than
    # RetryMiddleware (550), so a refused DNS answer is not retried.
    "crawler.middlewares.AddressGuardMiddleware": 560,
}
# Scrapy's resolver, refusing DNS answers that are link-local (or private, see above).
TWISTED_DNS_RESOLVER = "crawler.resolver.AddressGuardResolver"
# Every item passes each spider middleware; none of these apply to known pages
# fetched once (no depth, no follow-up links to filter). The referer middleware
# stays: the redirect middlewares warn at every start without it.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# Scrapy re-parses the callback's source for this check on every response.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy starts this many asyncio tasks for every response's output, even an
# empty one (0.3 ms a page at 100). The pipeline only appends to a batch and
# never awaits, so items of one page gain nothing from running in parallel.
CONCURRENT_ITEMS = 1

# Run logs and progress. `verify` keeps each run's full log beside the database
# (`<db name>.logs/run-<id>.log`), the last BACKCHECK_KEEP_LOGS runs' logs; the console
# gets warnings and errors only (`-v`: everything), with a live progress bar on a
# terminal, else a one-line progress record every BACKCHECK_PROGRESS_RECORD_S seconds.
BACKCHECK_KEEP_LOGS = 30
BACKCHECK_PROGRESS_RECORD_S = 60.0
# Set by `verify` for each crawler process: where it writes its progress counts.
BACKCHECK_PROGRESS_FILE = ""
EXTENSIONS = {"crawler.progress.ProgressFile": 500}
# Scrapy's remote control is off (REMOTE_CONTROL_ENABLED is False by default), but its
# extension, listed at all (even as None), imports aiohttp to find that out: ~0.2 s of
# every crawler process's start. Put it in EXTENSIONS to use it.
EXTENSIONS_BASE = {
    name: order
    for name, order in default_settings.EXTENSIONS_BASE.items()
    if name != "scrapy.extensions.remote_control.RemoteControl"
}

# Scale-out over Redis (`verify --redis URL`, `backcheck worker --redis URL`; the README's
# "Running on several machines"). BACKCHECK_REDIS_URL: the Redis server (redis://HOST:PORT/DB),
# also `--redis` and env BACKCHECK_REDIS_URL; empty: verify crawls on this machine. Once the
# shared queue is empty and no check came for REQUEUE_AFTER seconds, the owner pushes the
# pages still lacking checks again (a worker may have died holding them), at most
# MAX_REQUEUES times; then those backlinks get a crawl_error check. Politeness holds across
# workers: each request goes to one of SHARDS queues by its registered domain, and a worker
# pops only the shards it holds a lease on (LEASE seconds, renewed while it works; a dead
# worker's shards are taken over once their lease expires). SHARDS is fixed per Redis server
# by the first owner or worker that uses it (crawler/cluster/shards.py). WINDOW: referring
# pages of a run queued or in a worker's hands at once (about 440 bytes each in Redis); the
# owner tops the queues up as checks come back.
BACKCHECK_REDIS_URL = ""
BACKCHECK_REDIS_LEASE = 30.0
BACKCHECK_REDIS_MAX_REQUEUES = 3
BACKCHECK_REDIS_REQUEUE_AFTER = 60.0
BACKCHECK_REDIS_SHARDS = 64
BACKCHECK_REDIS_WINDOW = 10000
