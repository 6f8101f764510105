"""Who to ask for a link: addresses, authors and the contact page, read from one page."""

from __future__ import annotations

import doctest
import time

import pytest
from lxml import etree

from verifier.mentions import contacts
from verifier.mentions.contacts import (
    cloudflare_email,
    contact_page,
    contact_page_url,
    emails_in,
    join_emails,
    mailto_emails,
    page_contacts,
)
from verifier.models import Contact, ContactKind

PAGE = "https://blog.acme.com/2024/widgets"
EMAIL, AUTHOR, CONTACT_URL = ContactKind.EMAIL, ContactKind.AUTHOR, ContactKind.CONTACT_URL
#: "dani@acme.com" as Cloudflare's e-mail protection writes it.
CF = "4f2b2e21260f2e2c222a612c2022"


def parse(html: str) -> etree._Element:
    """Parse as `verifier.verdict.page` does."""
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=False)
    return etree.fromstring(html.encode("utf-8"), parser)


def values(html: str, kind: ContactKind) -> list[str]:
    return [c.value for c in page_contacts(parse(html), PAGE) if c.kind is kind]


def test_doctests() -> None:
    assert doctest.testmod(contacts).failed == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # plain
        ("name@domain.com", ["name@domain.com"]),
        ("Write to Press@Acme.COM today.", ["press@acme.com"]),
        ("first.last+tag@mail.acme.co.uk", ["first.last+tag@mail.acme.co.uk"]),
        ("a@b.com, c@d.org; a@b.com", ["a@b.com", "c@d.org"]),
        ("jane@bücher.de", ["jane@bücher.de"]),
        ("連絡先jane@acme.comまで", ["jane@acme.com"]),
        ("jane@acme.com dot net", ["jane@acme.com"]),
        # bracketed obfuscations, any bracket, any case, spaces optional
        ("name [at] domain [dot] com", ["name@domain.com"]),
        ("name (at) domain (dot) com", ["name@domain.com"]),
        ("name {at} domain {dot} com", ["name@domain.com"]),
        ("name <at> domain <dot> com", ["name@domain.com"]),
        ("name [AT] domain [DOT] com", ["name@domain.com"]),
        ("name [ at ] domain [ dot ] com", ["name@domain.com"]),
        ("name[@]domain.com", ["name@domain.com"]),
        ("name(at)domain(dot)co(dot)uk", ["name@domain.co.uk"]),
        ("name [at] domain [.] com", ["name@domain.com"]),
        ("name (at) domain.com", ["name@domain.com"]),
        ("first [dot] last [at] acme [dot] com", ["first.last@acme.com"]),
        ("jane   [at]\t acme  [dot]  com", ["jane@acme.com"]),
        # a bare word is kept when a bracket in the same address shows intent
        ("jane at acme [dot] com", ["jane@acme.com"]),
        ("jane [at] acme dot com", ["jane@acme.com"]),
        # near misses: prose, handles, files, versions, local names
        ("look at this dot com boom", []),
        ("name at domain dot com", []),
        ("name AT domain DOT com", []),
        ("name at domain.com", []),
        ("look at me [at] home", []),
        ("@handle", []),
        ("follow @acme.com on social", []),
        ("image@2x.png", []),
        ("logo@3x.webp sprite@2x.svg bg@2x.jpg a@b.gif site@1.css app@2.js", []),
        ("foo@1.2.3", []),
        ("user@10.0.0.1", []),
        ("user@localhost", []),
        ("user@intranet", []),
        ("a@b.c1", []),
        ("jane [at] acme [dot]", []),
        ("josé@acme.com", []),
        ("you@example.com", []),
        ("dev@acme.test", []),
        ("jane\n[at] acme [dot] com", []),  # a line break ends an address
        ("", []),
    ],
)
def test_emails_in(text: str, expected: list[str]) -> None:
    assert emails_in(text) == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("mailto:Press@Acme.com?subject=Hi", ["press@acme.com"]),
        ("MAILTO:press@acme.com", ["press@acme.com"]),
        ("  mailto:press@acme.com  ", ["press@acme.com"]),
        ("mailto:a@acme.com,b@acme.com", ["a@acme.com", "b@acme.com"]),
        ("mailto:a@acme.com;%20b@acme.com", ["a@acme.com", "b@acme.com"]),
        ("mailto:jane%40acme.com", ["jane@acme.com"]),
        ("mailto:%6A%61ne@acme.com", ["jane@acme.com"]),
        ("mailto:jane+news@acme.com", ["jane+news@acme.com"]),
        ("mailto:?to=a@acme.com&cc=b%40acme.com&body=c@acme.com", ["a@acme.com", "b@acme.com"]),
        ("mailto:jane[at]acme.com", ["jane@acme.com"]),
        ("mailto:", []),
        ("mailto:?subject=Hi", []),
        ("mailto:nobody", []),
        ("https://acme.com/mailto:a@acme.com", []),
        ("", []),
    ],
)
def test_mailto_emails(href: str, expected: list[str]) -> None:
    assert mailto_emails(href) == expected


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (CF, ["dani@acme.com"]),
        ("not hex", []),
        ("4f", []),
        ("", []),
    ],
)
def test_cloudflare_email(encoded: str, expected: list[str]) -> None:
    assert cloudflare_email(encoded) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<a href="mailto:Press@Acme.com?subject=Hi">Press</a>', ["press@acme.com"]),
        ('<a href="mailto:">Write us</a>', []),
        ("<p>Mail name&#64;domain.com</p>", ["name@domain.com"]),  # the parser decodes it
        ("<p>Mail <b>jane</b>@<i>acme</i>.com</p>", ["jane@acme.com"]),
        ("<p>jane [at] <b>acme</b> [dot] com</p>", ["jane@acme.com"]),
        ("<p>Source\n wrapped: jane [at]\n   acme [dot] com</p>", ["jane@acme.com"]),
        ('<p>jane<span style="display: none">.spam</span>@acme.com</p>', ["jane@acme.com"]),
        ("<p>jane<span hidden>.spam</span>@acme.com</p>", ["jane@acme.com"]),
        ("<p>a<!-- b@acme.com -->b@acme.org</p>", ["ab@acme.org"]),
        ("<noscript>jane@acme.com</noscript>", ["jane@acme.com"]),
        ('<script>var email = "dev@acme.com";</script>', []),
        ("<style>a::after { content: 'css@acme.com' }</style>", []),
        ('<template><a href="mailto:t@acme.com">t@acme.com</a></template>', []),
        ("<p>Look</p><p>at this [dot] com</p>", []),  # no address across blocks
        ("<p>jane [at]</p><p>acme [dot] com</p>", []),
        ('<img src="/logo@2x.png" alt="logo@2x.png">', []),
        (
            '<script type="application/ld+json">{"@type": "Organization",'
            ' "email": "mailto:Info@Acme.com", "contactPoint": {"email": ["sales@acme.com"]}}'
            "</script>",
            ["info@acme.com", "sales@acme.com"],
        ),
        ('<meta itemprop="email" content="hello@acme.com">', ["hello@acme.com"]),
        ('<span itemprop="email">hi@acme.com</span>', ["hi@acme.com"]),
        (
            f'<a href="/cdn-cgi/l/email-protection#{CF}">[email&#160;protected]</a>',
            ["dani@acme.com"],
        ),
        (
            f'<span class="__cf_email__" data-cfemail="{CF}"></span>',
            ["dani@acme.com"],
        ),
        (
            '<a href="mailto:a@acme.com">a@acme.com</a> <p>A@ACME.COM, b [at] acme [dot] com</p>',
            ["a@acme.com", "b@acme.com"],
        ),
    ],
)
def test_page_emails(body: str, expected: list[str]) -> None:
    assert values(f"<html><body>{body}</body></html>", EMAIL) == expected


LD = '<script type="application/ld+json">{}</script>'


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<meta name="author" content="Jane Doe">', ["Jane Doe"]),
        ('<meta name=" AUTHOR " content="  Jane \n Doe ">', ["Jane Doe"]),
        ('<meta name="author" content="">', []),
        ('<meta name="author" content="https://acme.com/jane">', []),
        ('<meta property="article:author" content="Jane Doe">', []),
        ('<meta name="description" content="Jane Doe">', []),
        (LD.format('{"@type": "Article", "author": "Jane Doe"}'), ["Jane Doe"]),
        (
            LD.format('{"@type": "BlogPosting", "author": {"@type": "Person", "name": "Jane"}}'),
            ["Jane"],
        ),
        (
            LD.format('{"author": [{"name": "Jane"}, "Bob", {"name": ["Ann", "Ann"]}]}'),
            ["Jane", "Bob", "Ann"],
        ),
        (
            LD.format(
                '{"@context": "https://schema.org", "@graph": ['
                '{"@type": "WebPage", "name": "Widgets"},'
                '{"@type": "NewsArticle", "author": {"@id": "#jane"}},'
                '{"@type": "Person", "@id": "#jane", "name": "Jane Doe"}]}'
            ),
            ["Jane Doe"],
        ),
        (
            LD.format('[{"@type": "Review", "author": {"@type": "Organization", "name": "Acme"}}]'),
            ["Acme"],
        ),
        (LD.format('{"author": {"url": "https://acme.com/jane"}}'), []),
        (LD.format('{"author": "https://acme.com/jane"}'), []),
        (LD.format('{"author": 42, "name": "Widgets"}'), []),
        (LD.format('{"author": "Jane", }'), []),  # malformed: ignored
        (LD.format("<!--\n" + '{"author": "Jane"}' + "\n-->"), ["Jane"]),
        (LD.format('{"headline": "Line\nbreak", "author": "Jane"}'), ["Jane"]),
        (LD.format("[" * 5000 + "]" * 5000), []),
        ('<script type="application/json">{"author": "Jane"}</script>', []),
        (
            '<div itemprop="author" itemscope><span itemprop="name">Jane  Doe</span> writes.</div>',
            ["Jane Doe"],
        ),
        (
            '<div itemprop="author" itemscope><div itemprop="worksFor" itemscope>'
            '<span itemprop="name">Acme Corp</span></div><span itemprop="name">Jane</span></div>',
            ["Jane"],
        ),
        ('<span itemprop="author">Jane Doe</span>', ["Jane Doe"]),
        ('<span itemprop="creator author">Jane Doe</span>', ["Jane Doe"]),
        ('<meta itemprop="author" content="Jane Doe">', ["Jane Doe"]),
        ('<link itemprop="author" href="https://acme.com/jane">', []),
        ('<span itemprop="authorship">Jane Doe</span>', []),
        ('<div itemprop="author">' + "A long biography. " * 10 + "</div>", []),
        ('<a rel="author" href="/jane">Jane Doe</a>', ["Jane Doe"]),
        ('<a rel="external AUTHOR" href="/jane"> Jane <b>Doe</b> </a>', ["Jane Doe"]),
        ('<a rel="author" href="/jane"><img src="j.png" alt="Jane Doe"></a>', ["Jane Doe"]),
        ('<a rel="authors" href="/jane">Jane Doe</a>', []),
        ('<a href="/author/jane">Jane Doe</a>', []),
        ('<link rel="author" href="/humans.txt">', []),
        (
            '<meta name="author" content="Jane Doe"><a rel="author">JANE DOE</a>'
            '<span itemprop="author">jane  doe</span><a rel="author">Bob</a>',
            ["Jane Doe", "Bob"],
        ),
    ],
)
def test_page_authors(html: str, expected: list[str]) -> None:
    assert values(f"<html><head></head><body>{html}</body></html>", AUTHOR) == expected


def test_page_contacts_in_document_order_each_once() -> None:
    html = """<html><head>
    <meta name="author" content="Jane Doe">
    <script type="application/ld+json">
      {"@type": "BlogPosting", "author": {"name": "Jane Doe", "email": "jane@acme.com"}}
    </script></head>
    <body><p>Tips: tips [at] acme [dot] com</p>
    <p>By <a rel="author" href="/bob">Bob Roe</a>,
       <a href="mailto:Bob@Acme.com">bob@acme.com</a></p>
    <footer>Jane@acme.com</footer></body></html>"""
    assert page_contacts(parse(html), PAGE, "https://blog.acme.com/") == [
        Contact(AUTHOR, "Jane Doe", PAGE),
        Contact(EMAIL, "jane@acme.com", PAGE),
        Contact(EMAIL, "tips@acme.com", PAGE),
        Contact(AUTHOR, "Bob Roe", PAGE),
        Contact(EMAIL, "bob@acme.com", PAGE),
    ]


@pytest.mark.parametrize(
    "html",
    [
        "<<<>>>&&&",
        "<html><body><p><b><i>unclosed <a href='mailto:%zz'>x",
        "<div>" * 3000 + "deep@acme.com",
        '<a href="http://[::1">x</a><a href="/cdn-cgi/l/email-protection#zz">x</a>',
        # libxml2 leaves what follows </html> beside the root: not in the page's tree
        "<p>x</p></html>after<div itemprop=author itemscope><span itemprop=name>Jo</span>",
    ],
)
def test_broken_markup_never_raises(html: str) -> None:
    root = parse(html)
    page_contacts(root, PAGE)
    contact_page_url(root, PAGE)


def test_no_root() -> None:
    assert page_contacts(None, PAGE) == []
    assert contact_page_url(None, PAGE) is None
    assert contact_page(None, PAGE) is None


def test_long_runs_are_read_in_linear_time() -> None:
    # A regex that may scan to the end of the text from each start takes minutes here.
    text = "a(dot)" * 20000 + " " + "a.b@" * 20000 + " " + "x" * 100000 + "@"
    start = time.perf_counter()
    assert emails_in(text) == []
    assert time.perf_counter() - start < 5


BASE = "https://blog.acme.com/2024/widgets"


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ('<a href="/contact">Contact</a>', "https://blog.acme.com/contact"),
        ('<a href="/p/12">Contact us</a>', "https://blog.acme.com/p/12"),
        ('<a href="/p/12">CONTACT US »</a>', "https://blog.acme.com/p/12"),
        ('<a href="/p/12">Contactez-nous</a>', "https://blog.acme.com/p/12"),
        ('<a href="/p/12">Contáctenos</a>', "https://blog.acme.com/p/12"),
        ('<a href="https://www.acme.com/kontakt/">Hallo</a>', "https://www.acme.com/kontakt/"),
        ('<a href="/de/Kontaktformular">x</a>', "https://blog.acme.com/de/Kontaktformular"),
        ('<a href="/es/contacto">x</a>', "https://blog.acme.com/es/contacto"),
        ('<a href="/pt/contato">x</a>', "https://blog.acme.com/pt/contato"),
        ('<a href="/impressum.html">x</a>', "https://blog.acme.com/impressum.html"),
        ('<a href="/contact-us.php">x</a>', "https://blog.acme.com/contact-us.php"),
        ('<a href="/ContactUs">x</a>', "https://blog.acme.com/ContactUs"),
        ('<a href="/index.php?page=contact">x</a>', "https://blog.acme.com/index.php?page=contact"),
        ('<a href="/contact#form">x</a>', "https://blog.acme.com/contact"),
        ('<a href="contact">x</a>', "https://blog.acme.com/2024/contact"),
        # contact wins over about, whichever comes first
        (
            '<a href="/about">About</a><a href="/kontakt">Kontakt</a>',
            "https://blog.acme.com/kontakt",
        ),
        ('<a href="/c1">Contact</a><a href="/c2">Contact</a>', "https://blog.acme.com/c1"),
        # else about
        ('<a href="/about-us">x</a>', "https://blog.acme.com/about-us"),
        ('<a href="/team">About</a>', "https://blog.acme.com/team"),
        ('<a href="/team">About us</a><a href="/about">About</a>', "https://blog.acme.com/team"),
        ('<a href="/ueber-uns">x</a>', "https://blog.acme.com/ueber-uns"),
        # near misses
        ('<a href="/blog/contact-lenses-guide">Contact lenses</a>', None),
        ('<a href="/blog/contactless-payments">Contactless payments</a>', None),
        ('<a href="/contact/jane-doe">Jane Doe</a>', None),
        ('<a href="/p/1">Read more about widgets</a>', None),
        ('<a href="/uber">Uber</a>', None),
        ('<a href="https://twitter.com/contact">Contact</a>', None),
        ('<a href="https://acme.com.evil.net/contact">Contact</a>', None),
        ('<a href="mailto:contact@acme.com">Contact</a>', None),
        ('<a href="javascript:openContact()">Contact</a>', None),
        ('<a href="tel:+123">Contact</a>', None),
        ('<a href="#contact">Contact</a>', None),
        ("<a>Contact</a>", None),
        ('<a href="">Contact</a>', None),
        # the name in the last path segment or a query value, written out or encoded
        ('<a href="/x?a=contact&b=x/y">q</a>', "https://blog.acme.com/x?a=contact&b=x/y"),
        ('<a href="/about/team?p=about">q</a>', "https://blog.acme.com/about/team?p=about"),
        ('<a href="/%C3%BCber%C2%A0uns">q</a>', "https://blog.acme.com/%C3%BCber%C2%A0uns"),
        ('<a href="/qui%C3%A9nes-somos">q</a>', "https://blog.acme.com/qui%C3%A9nes-somos"),
        ('<a href="/cont%C3%A1ctenos/">q</a>', "https://blog.acme.com/cont%C3%A1ctenos/"),
        ('<a href="/a%2Fcontact">q</a>', "https://blog.acme.com/a%2Fcontact"),
        ('<a href="/p/2">À propos</a>', "https://blog.acme.com/p/2"),
        ('<a href="/p/2">Quem somos</a>', "https://blog.acme.com/p/2"),
        ('<area href="/p/3" alt="Impressum">', "https://blog.acme.com/p/3"),
        ('<a href="/p/4"><span>Über</span> <b>uns</b></a>', "https://blog.acme.com/p/4"),
        ('<a href="/p/4"><img src="c.png" alt="Contact"></a>', "https://blog.acme.com/p/4"),
        # a needle in a directory or a word: not a name
        ('<a href="/about/team/jane">Jane</a><a href="/contact/form/x">Form</a>', None),
        ('<a href="/runs">Runs and guns</a><a href="/proposal">A proposal</a>', None),
        ('<a href="/contacts-export.csv">Export your contacts</a>', None),
    ],
)
def test_contact_page_url(links: str, expected: str | None) -> None:
    assert contact_page_url(parse(f"<html><body>{links}</body></html>"), BASE) == expected


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://blog.acme.com/contact/form", "https://blog.acme.com/contact/"),
        ("https://blog.acme.com/about-us/", "https://blog.acme.com/about-us/"),
        (BASE, None),
    ],
)
def test_a_link_to_the_pages_own_folder_names_it_when_the_folder_does(
    base: str, expected: str | None
) -> None:
    # "./" resolves to the base's folder: its name is the link's, whatever the link says.
    assert contact_page_url(parse('<html><body><a href="./">Home</a></body></html>'), base) == (
        expected
    )


def test_contact_page_url_follows_the_base_url() -> None:
    relative = parse('<a href="contact">Contact</a>')
    assert contact_page_url(relative, "https://acme.de/de/") == "https://acme.de/de/contact"
    absolute = parse('<a href="https://acme.de/kontakt">Kontakt</a>')
    assert contact_page_url(absolute, "https://shop.acme.de/") == "https://acme.de/kontakt"
    assert contact_page_url(absolute, "https://other.org/") is None


def test_contact_page_is_a_contact_found_on_the_page() -> None:
    root = parse('<a href="/kontakt">Kontakt</a>')
    assert contact_page(root, PAGE) == Contact(CONTACT_URL, "https://blog.acme.com/kontakt", PAGE)
    assert contact_page(root, PAGE, "https://www.acme.com/") == Contact(
        CONTACT_URL, "https://www.acme.com/kontakt", PAGE
    )


def test_contact_page_addresses_join_the_page_contacts() -> None:
    contact_url = "https://blog.acme.com/contact"
    found = page_contacts(parse("<p>By <a rel=author>Jane</a>, jane@acme.com</p>"), PAGE)
    on_contact_page = page_contacts(
        parse('<meta name="author" content="Web Team"><p>JANE@acme.com, press@acme.com</p>'),
        contact_url,
    )
    assert join_emails(found, on_contact_page) == [
        Contact(AUTHOR, "Jane", PAGE),
        Contact(EMAIL, "jane@acme.com", PAGE),
        Contact(EMAIL, "press@acme.com", contact_url),
    ]


@pytest.mark.parametrize(
    "href",
    [
        "/contact" + "-" * 200000 + "x=",  # two gaps could split the run: 20 KB took 37 s
        "/" + "%2f" * 100000 + "about=x",  # "%2f" read as one escape or as "%", "2"
        "/x?a=" + "contact=" * 100000,
        "/ueber" + "%20" * 100000 + "x=",
    ],
)
def test_a_hostile_href_is_looked_at_in_linear_time(href: str) -> None:
    # The needle is in the href's last segment or query, so the name regex reads it.
    root = parse(f'<html><body><a href="{href}">x</a></body></html>')
    start = time.perf_counter()
    assert contact_page_url(root, BASE) is None
    assert time.perf_counter() - start < 5


def test_a_long_href_of_needles_is_looked_at_in_linear_time() -> None:
    # Each "about" in a directory was checked against the whole href: quadratic.
    href = "/about" * 300000 + "/x"
    root = parse(f'<html><body><a href="{href}">x</a><a href="/p/9">About</a></body></html>')
    start = time.perf_counter()
    assert contact_page_url(root, BASE) == "https://blog.acme.com/p/9"
    assert time.perf_counter() - start < 5
