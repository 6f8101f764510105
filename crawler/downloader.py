"""Scrapy's downloader, with its per-domain concurrency limit enforced.

In Scrapy 2.19, `Downloader._process_queue` hands each queued request to a
coroutine and checks the slot's free transfer slots before the next one, but a
request is only counted as transferring once its coroutine runs: under the
asyncio reactor that is later, so a slot with several queued requests starts
them all at once, whatever CONCURRENT_REQUESTS_PER_DOMAIN says (measured: 6
requests to one host, 1 s each, with a limit of 1, took 2.5 s). Counting the
request when it is handed over keeps the limit: backcheck visits other
people's servers every night and must stay polite.

Scrapy also records a request's slot in its meta (`download_slot`) on the first
download, and a redirect copies the meta: a page redirected to another host was
fetched in the first host's slot, outside the limit of the host it went to.
backcheck sets no `download_slot` of its own, so the slot is always the URL's, but
for a render request (meta `backcheck_slot`, crawler/render.py): it fetches nothing.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Downloader as _ScrapyDownloader

from crawler.render import SLOT

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Slot
    from scrapy.http import Response
    from twisted.internet.defer import Deferred


class Downloader(_ScrapyDownloader):
    def _wait_for_download(  # type: ignore[override]
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        slot.transferring.add(request)  # at once; `_download` adds it again and removes it
        return super()._wait_for_download(slot, request, queue_dfd)

    def get_slot_key(self, request: Request) -> str:
        request.meta.pop(self.DOWNLOAD_SLOT, None)  # a redirected request's first host
        if (slot := request.meta.get(SLOT)) is not None:
            return str(slot)  # a render's own slot (crawler/render.py)
        return super().get_slot_key(request)
