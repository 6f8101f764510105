"""A site's profile: its domain and the terms that describe it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteProfile:
    domain: str  # registered domain, e.g. "acme.com"
    brands: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()  # phrases that look like a brand but are someone else
