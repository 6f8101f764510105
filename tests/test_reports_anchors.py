"""Anchor categories (a table, spidermon style) and the image-link rule in SQL."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from verifier.reports.anchors import GENERIC, IMAGE_SQL, categorize, words
from verifier.store.profile import SiteProfile

PROFILE = SiteProfile(
    "acme.com", brands=("Acme", "Acme Widgets"), keywords=("blue widgets", "widget repair")
)


@pytest.mark.parametrize(
    ("anchor", "image", "category"),
    [
        ("", False, "empty"),
        ("   ", False, "empty"),
        ("»", False, "empty"),
        ("", True, "image"),  # an image without alt text
        ("Acme logo", True, "image"),
        ("acme.com", False, "naked_url"),
        ("https://www.acme.com/pricing?x=1", False, "naked_url"),
        ("shop.ACME.com/", False, "naked_url"),
        ("acme.com.evil.net", False, "branded"),  # not our URL, but it names the brand
        ("widgetco.com", False, "other"),
        ("Acme", False, "branded"),
        ("ACME's blue widgets", False, "branded"),  # brand wins over the keyword
        ("acme widgets", False, "branded"),
        ("Acmeology", False, "other"),  # whole words only
        ("blue widgets", False, "exact"),
        ("Blue  Widgets!", False, "exact"),
        ("best blue widgets", False, "partial"),
        ("widgets, blue", False, "partial"),  # every word, any order
        ("widgets", False, "other"),
        ("click here", False, "generic"),
        ("Read more »", False, "generic"),
        ("website", False, "generic"),
        ("hier klicken", False, "generic"),
        ("Mehr lesen", False, "generic"),
        ("cliquez ici", False, "generic"),
        ("En savoir plus", False, "generic"),
        ("plus d'infos", False, "generic"),
        ("haga clic aquí", False, "generic"),
        ("haga clic aqui", False, "generic"),  # accents folded
        ("Leer más", False, "generic"),
        ("a great shop", False, "other"),
    ],
)
def test_categories(anchor: str, image: bool, category: str) -> None:
    assert categorize(anchor, image, PROFILE) == category


def test_without_brands_or_keywords_only_the_other_rules_apply() -> None:
    bare = SiteProfile("acme.com")
    assert [categorize(a, False, bare) for a in ("Acme", "acme.com", "here")] == [
        "other",
        "naked_url",
        "generic",
    ]


def test_the_generic_list_covers_four_languages_at_least() -> None:
    for phrase in ("here", "hier", "ici", "aquí", "read more", "weiterlesen", "lire la suite"):
        assert words(phrase) in GENERIC


@pytest.mark.parametrize(
    ("anchor", "html", "image"),
    [
        ("Acme logo", '<a href="/"><img src="l.png" alt="Acme logo"></a>', True),
        ("", '<a href="/"><img src="l.png"></a>', True),
        ("A & B", '<a href="/"><img alt="A &amp; B"></a>', True),
        ('Say "hi"', '<a href="/"><img alt=\'Say "hi"\'></a>', True),  # lxml's quoting
        ("Acme", '<a href="/"><img alt="icon" src="i.png">Acme</a>', False),
        ("Acme", '<a href="/">Acme</a>', False),
        ("", '<a href="/"></a>', False),
        ("Acme", None, False),
    ],
)
def test_image_links_in_sql(anchor: str, html: str | None, image: bool) -> None:
    db = Database(memory=True)
    sql = (
        f"select {IMAGE_SQL} from (select ? as anchor) b,"
        " (select ? as link_html) c, (select ? as link_html) e"
    )
    # On the check itself (before migration m007), or in its shared evidence row.
    for inline, shared in ((html, None), (None, html)):
        got = db.execute(sql, [anchor, inline, shared]).fetchone()[0]
        assert bool(got) is image
