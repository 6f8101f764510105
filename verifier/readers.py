"""What pages are read for, per site of a run, and the reading `verify` leaves to the
writer process (`PageRead`): the crawler checks the links, the writer, on another
core, reads the page for the brand and stores both."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from verifier.mentions import reading
from verifier.mentions.reading import SiteReader
from verifier.models import ContactWanted, PageMentions, PageRead
from verifier.store import mentions as mentions_store
from verifier.store import outreach, runs, storage
from verifier.store.profile import SiteProfile

#: How much lower the reading writer's CPU priority is than the crawler's (`nice`).
NICENESS = 5


def site_profiles(db: Database, sites: list[str]) -> list[SiteProfile]:
    """The profiles of `sites` that pages are read for: competitors among them
    (`verify --competitors`) have none (see `rival_readers`)."""
    return [storage.load_site(db, d) for d in sites if not storage.is_competitor(db, d)]


def readers_of(profiles: Iterable[SiteProfile]) -> dict[str, SiteReader]:
    """What discovery looks for on a page, per site: brand terms, excludes, competitors."""
    return {
        p.domain: SiteReader.build(p.domain, p.brands, p.excludes, p.competitors) for p in profiles
    }


def site_readers(db: Database, sites: list[str]) -> dict[str, SiteReader]:
    """`readers_of` the sites' profiles in the database."""
    return readers_of(site_profiles(db, sites))


def rival_readers(
    readers: dict[str, SiteReader], sites: list[str]
) -> dict[str, tuple[SiteReader, ...]]:
    """Per competitor among `sites`, the readers of the sites it competes with: a page
    that links to a competitor is read for those sites' brands (`report gap`'s
    mentions_brand, outreach targets), never for the competitor's."""
    rivals: dict[str, tuple[SiteReader, ...]] = {}
    for reader in readers.values():
        for rival in reader.competitors:
            if rival in sites and rival not in readers:
                rivals[rival] = (*rivals.get(rival, ()), reader)
    return rivals


@dataclass(slots=True)
class RunReaders:
    """The writer process's reading of `PageRead`s for one run's sites."""

    db: Database
    readers: dict[str, SiteReader]
    rivals: dict[str, tuple[SiteReader, ...]]
    wanted: list[ContactWanted] = field(default_factory=list)

    @classmethod
    def of_run(cls, db: Database, run_id: int) -> RunReaders:
        sites = runs.run_sites(db, run_id)
        readers = site_readers(db, sites)
        return cls(db, readers, rival_readers(readers, sites))

    def read(self, page: PageRead) -> list[Any]:
        """The page's items with its mentions: the checks get their `mentions`; a page
        row without mentions is kept only when the page had one stored before."""
        items = reading.read_later(
            page.fetch,
            page.refs,
            page.items,
            self.readers,
            page.linked_pages,
            self._wants_contacts,
            self.rivals,
            page.cleared,
        )
        kept = []
        for item in items:
            if isinstance(item, PageMentions):
                if not item.mentions and not mentions_store.is_stored(self.db, item):
                    continue
                if item.mentions and item.contact_url and not item.links_to_site:
                    self.wanted.append(ContactWanted(item.page_url, item.contact_url))
            kept.append(item)
        return kept

    def _wants_contacts(self, site: str, url: str) -> bool:
        return outreach.wants_contacts(self.db, site, url)

    def take_wanted(self) -> list[ContactWanted]:
        wanted, self.wanted = self.wanted, []
        return wanted


if __name__ == "__main__":  # the writer process of a verify that hands pages over
    import gc
    import os

    from verifier.store import writer

    # As in the crawler (crawler/runner.py): parsed pages make many short-lived objects,
    # and the default thresholds run the cyclic GC over the long-lived ones every few.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    # The crawl first when the cores are contended: a page read later costs nothing, a
    # crawler that waits for a core stretches the run (2,000 pages, 5 pairs: +1.3 % wall
    # time for mentions with this, +6.1 % without).
    os.nice(NICENESS)
    writer.main(reading=RunReaders.of_run)
