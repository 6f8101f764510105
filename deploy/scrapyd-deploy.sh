#!/usr/bin/env bash
# Deploy backcheck to a Scrapyd server from a throwaway copy of this checkout.
#
# scrapyd-deploy packs the folder it runs in: it writes setup.py (if there is none),
# build/ and an egg-info there. Its generated setup.py names the project "project"
# and would then take over `pip install -e .` here, so it runs in a copy instead.
#
# Usage: deploy/scrapyd-deploy.sh [TARGET] [scrapyd-deploy options]
# TARGET is a [deploy:TARGET] section of scrapy.cfg or ~/.scrapy.cfg (default: [deploy]).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
copy="$(mktemp -d "${TMPDIR:-/tmp}/backcheck-deploy.XXXXXX")"
trap 'rm -rf "$copy"' EXIT
cp -R "$src/crawler" "$src/verifier" "$copy/"
cp "$src/scrapy.cfg" "$src/setup.cfg" "$src/pyproject.toml" "$src/README.md" "$copy/"
find "$copy" -name __pycache__ -prune -exec rm -rf {} +
cd "$copy"
scrapyd-deploy "$@"
