"""What a run's pages are read for (brands, excludes, competitors), shared through Redis.

Workers have no database: the owner writes the profiles of the run's sites and
its render mode (BACKCHECK_RENDER) to one Redis key when it starts collecting,
and each worker reads that key once per run, then reads every page of the run
for those brands, and renders it, exactly as a local `verify` does
(`verifier.mentions.reading.read_verified`, `crawler.spiders.rendering`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crawler.cluster.keys import profile_key
from verifier.mentions.reading import SiteReader
from verifier.readers import readers_of, rival_readers
from verifier.store.profile import SiteProfile
from verifier.verdict.render import RenderMode

if TYPE_CHECKING:
    from redis import Redis

#: Seconds the profiles outlive the owner's last start (a run never resumed is forgotten).
TTL = 7 * 24 * 3600
#: Runs whose readers a worker remembers (there are rarely more than a few open at once).
REMEMBERED = 64


@dataclass(frozen=True, slots=True)
class Reading:
    """The readers of one run, as `VerifySpider` builds them from the database."""

    readers: dict[str, SiteReader] = field(default_factory=dict)
    rivals: dict[str, tuple[SiteReader, ...]] = field(default_factory=dict)
    linked_pages: bool = True
    render: RenderMode = RenderMode.NEVER  # the owner's BACKCHECK_RENDER


def publish(
    server: Redis,
    run: str,
    profiles: list[SiteProfile],
    sites: list[str],
    linked_pages: bool,
    render: RenderMode = RenderMode.NEVER,
) -> None:
    """Write the run's profiles (none: pages are not read for mentions) and its render
    mode for the workers."""
    data = {
        "sites": sites,
        "linked_pages": linked_pages,
        "render": render.value,
        "profiles": [
            {
                "domain": p.domain,
                "brands": list(p.brands),
                "excludes": list(p.excludes),
                "competitors": list(p.competitors),
            }
            for p in profiles
        ],
    }
    server.set(profile_key(run), json.dumps(data), ex=TTL)


def forget(server: Redis, run: str) -> None:
    server.delete(profile_key(run))


class Readings:
    """A worker's readers per run, read from Redis at the run's first page."""

    def __init__(self, server: Redis) -> None:
        self.server = server
        self.known: dict[str, Reading] = {}

    def of(self, run: str) -> Reading:
        """The run's readers; none when its profiles are gone (the run was closed)."""
        if run in self.known:
            return self.known[run]
        raw = self.server.get(profile_key(run))
        if raw is None:
            return Reading()
        data = json.loads(raw)
        profiles = [
            SiteProfile(
                domain=p["domain"],
                brands=tuple(p["brands"]),
                excludes=tuple(p["excludes"]),
                competitors=tuple(p["competitors"]),
            )
            for p in data["profiles"]
        ]
        readers = readers_of(profiles)
        rivals = rival_readers(readers, data["sites"])
        # An owner from before rendering on workers sends no mode: it rendered nothing.
        render = RenderMode(data.get("render", RenderMode.NEVER))
        reading = Reading(readers, rivals, data["linked_pages"], render)
        if len(self.known) >= REMEMBERED:
            self.known.pop(next(iter(self.known)))
        self.known[run] = reading
        return reading
