"""Memory: one hostile feed or page never takes `news-monitor once` past MEMORY_BOUND.

Each test runs the real CLI in a child process against loopback servers and reads the child's peak
resident memory (os.wait4): a bound, not a timing. A clean `once` peaks at about 150 MiB (the libraries
loaded); each hostile input below took main to 0.6-1.3 GB.
"""

from __future__ import annotations

import gc
import random
import string
import tracemalloc

import pytest

from monitor.pipeline.stored_text import MAX_CHARS_PER_POLL, MAX_UNMATCHED_CHARS, StoredTextBudget
from monitor.stages.extract import MAX_TEXT_CHARS
from monitor.stages.stories import profile_article
from tests.support.feeds import rss_feed
from tests.support.peak_rss import MIB, run_measured
from tests.support.prose import distinct_prose
from tests.support.world import World, hours_ago

MEMORY_BOUND = 400 * MIB


def test_a_quiet_feed_leaves_room_under_the_bound(world: World) -> None:
    items = [{"title": "Nothing", "guid": "1", "pub_date": hours_ago(1)}]
    world.add_feed("/quiet.xml", rss_feed("Quiet", items))
    run = run_measured(world, "once")
    assert run.exit_code == 0, run.stderr
    assert run.peak_rss < MEMORY_BOUND / 2, run.peak_rss / MIB


def test_links_to_one_site_under_many_user_names_read_its_robots_txt_once(world: World) -> None:
    # 120 links to one site, each with its own user info; its robots.txt is 512 KiB of rules. main fetched
    # and parsed it 118 times and kept every copy (4.4 MB each): 649 MiB.
    rules = "".join(f"Disallow: /archive/{n}/\n" for n in range(19_000))
    world.web.add("/robots.txt", "User-agent: *\nDisallow: /story/\n" + rules, content_type="text/plain")
    port = world.web.base_url.rsplit(":", 1)[1]
    items = [
        {"title": f"Item {n}", "link": f"http://u{n}@127.0.0.1:{port}/story/{n}", "pub_date": hours_ago(1)}
        for n in range(120)
    ]
    world.add_feed("/users.xml", rss_feed("Users", items))
    run = run_measured(world, "once")
    assert run.exit_code == 0, run.stderr
    assert run.peak_rss < MEMORY_BOUND, run.peak_rss / MIB
    assert world.web.hits("/robots.txt") == 1


def test_a_10_mb_unterminated_declaration_is_scanned_in_constant_memory(world: World) -> None:
    # One `<!DOCTYPE` that runs for 10 MB before its internal subset declares an entity: main's regex kept
    # ~118 bytes per character scanned and reached 1.3 GB before refusing the feed.
    body = '<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "rss.dtd" ' + "x" * 9_900_000
    body += ' [<!ENTITY e "boom">]>\n<rss version="2.0"><channel><title>&e;</title></channel></rss>'
    world.add_feed("/declaration.xml", body)
    run = run_measured(world, "once")
    assert "declares XML entities" in run.stderr
    assert run.peak_rss < MEMORY_BOUND, run.peak_rss / MIB


def test_pages_that_normalisation_expands_18_times_stay_under_the_bound(world: World) -> None:
    # Each page is 250,000 x U+FDFA, 18 characters each once NFKC-normalised. main capped the text before
    # normalising: the near-copy signature, the story profile and the matcher each read 3.6 million
    # characters, and six pages took once to 1 GB.
    paragraphs = "".join(f"<p>{chr(0xFDFA) * 2_500} part {n}.</p>" for n in range(100))
    items = []
    for n in range(6):
        link = world.web.add(f"/expanding/{n}.html", f"<html><body><article>{paragraphs}</article>")
        items.append({"title": f"Expanding {n}", "link": link, "pub_date": hours_ago(1)})
    world.add_feed("/expanding.xml", rss_feed("Expanding", items))
    run = run_measured(world, "once")
    assert run.exit_code == 0, run.stderr
    assert "items/failed" not in run.stderr
    assert run.peak_rss < MEMORY_BOUND, run.peak_rss / MIB


# -- what the store keeps -----------------------------------------------------------------------------


def test_the_text_a_poll_stores_is_capped_per_article_and_per_poll(world: World) -> None:
    # 150 new items that match nothing, each with a 20,000-character summary (3 M characters): main
    # stored them all, and a feed can bring 1,000 such items every poll (~213 MB kept for 14 days).
    items = [
        {
            "title": f"Item {n}",
            "guid": f"g{n}",
            "description": distinct_prose(f"s{n}", 3_000)[:20_000],
            "pub_date": hours_ago(1),
        }
        for n in range(150)
    ]
    world.add_feed("/many.xml", rss_feed("Many", items))
    assert world.once() == 0
    lengths = [int(n) for (n,) in world.store.rows("SELECT length(text) FROM articles")]
    assert len(lengths) == 150
    assert max(lengths) <= MAX_UNMATCHED_CHARS
    assert sum(lengths) <= MAX_CHARS_PER_POLL


def test_an_unmatched_article_keeps_only_the_start_of_a_long_text() -> None:
    budget = StoredTextBudget()
    text = "\n".join(distinct_prose(f"p{n}", 200) for n in range(80))
    kept = budget.keep(text, matched=False)
    assert len(text) > MAX_UNMATCHED_CHARS >= len(kept) > MAX_UNMATCHED_CHARS // 2
    assert text.startswith(kept) and text[len(kept)] == "\n"  # cut at a line break
    assert budget.keep(text, matched=True) == text  # a matched article keeps all of it


# -- caches that outlive a poll -----------------------------------------------------------------------


def test_the_word_rarity_cache_keeps_no_page_sized_words() -> None:
    # The story profile caches each word's rarity, up to 50,000 words: 50,000 "words" of 1,000 letters
    # would be 50 MB kept for the life of the service. 1,000 such words, capitalised as names, must
    # leave nothing behind.
    rng = random.Random(5)
    articles = [
        " ".join("Q" + "".join(rng.choices(string.ascii_lowercase, k=1_000)) + " said." for _ in range(190))
        for _ in range(5)
    ]
    profile_article("Warm up", distinct_prose("warm", 300))  # loads the word table (3 MB), once a process
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for text in articles:
            assert len(text) < MAX_TEXT_CHARS
            profile_article("Long names", text)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 100_000, kept


# One character decides how much a page weighs once decoded: Python keeps a str at 1, 2 or 4 bytes per
# character, the widest character's width. Each page below is 4.6 MB on the wire; decoded it is 4.6 MB
# (ASCII), 9.2 MB (one U+0436; or windows-1252 where 1 MB of bytes 0x80 read as U+20AC) or 18.4 MB (one
# emoji). With room for 16 pages whatever they weighed (48 pages each): 354, 517, 492 and 785 MiB.
_WIDE_PAGES = ("ascii", "two_bytes_a_character", "windows_1252_bytes_0x80", "four_bytes_a_character")


def _wide_script(kind: str) -> tuple[bytes, str]:
    """A page's 4.6 MB script of the given kind, and its charset."""
    if kind == "windows_1252_bytes_0x80":  # under 10 MB in UTF-8 (libxml2's largest text), so it is read
        return ("var a=1;" * 450_000 + "\u20ac" * 1_000_000).encode("windows-1252"), "windows-1252"
    wide = {"ascii": "", "two_bytes_a_character": "\u0436", "four_bytes_a_character": "\U0001f600"}[kind]
    return ("var a=1;" * 575_000 + wide).encode(), "utf-8"


@pytest.mark.timeout(300)  # a few minutes on a loaded 2-core machine; the bound is on memory, not time
@pytest.mark.parametrize("kind", _WIDE_PAGES)
def test_big_pages_wait_for_extraction_in_bounded_memory(world: World, kind: str) -> None:
    # 48 links to 4.6 MB pages that download in milliseconds and take ~0.25 s each to extract (a script
    # fills them): main fetched them all while two threads extracted, and held them all at once.
    story = "".join(
        f"<p>Alibaba opened office number {n} in Hangzhou, the company said.</p>" for n in range(5)
    )
    script, charset = _wide_script(kind)
    # Starting as real pages do: trafilatura copies a page twice to take the doctype off (its load_html).
    page = (
        b"<!DOCTYPE html>\n<html><body><script>"
        + script
        + f"</script><article>{story}</article></body></html>".encode()
    )
    items = [
        {
            "title": f"Page {n}",
            "link": world.web.add(f"/big/{n}.html", page, content_type=f"text/html; charset={charset}"),
            "pub_date": hours_ago(1),
        }
        for n in range(48)
    ]
    world.add_feed("/big.xml", rss_feed("Big", items))
    run = run_measured(world, "once")
    assert run.exit_code == 0, run.stderr
    assert "items/failed" not in run.stderr
    assert "fallback_to_summary" not in run.stderr  # every page was read and extracted, none given up
    assert run.peak_rss < MEMORY_BOUND, run.peak_rss / MIB
