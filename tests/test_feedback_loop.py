"""Issue 17's "Done when", tried as a user would: the buttons' feedback tunes the watchlist.

A `run` service with the app token alerts on a PLA watchlist from two local sites: a 3D-printing
magazine whose articles are about PLA filament, and a defence desk whose articles are about the army. An
analyst presses "Not relevant" on the three filament alerts and another "Relevant" on the army ones,
through the Socket Mode fake, with the payloads Slack would build from the alerts the Slack fake received.
Then `news-monitor tune` (as a process, on the same config and store) suggests excluding "PLA filament",
its backtest removing those three and losing no relevant one; `tune --apply` writes it, comments kept;
and the next filament article no longer alerts while the next army one does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from monitor.config import load_config
from tests.support.feeds import rss_feed
from tests.support.instances import Instance, wait_until
from tests.support.news_pages import Site, Story, news_page
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.world import REPO_ROOT, World, message_title
from tests.test_operator_output import free_port

pytestmark = pytest.mark.timeout(180)

CHANNEL = "#china-tech"
WATCHLISTS = """\
# The China desk's watchlists. Edited by hand, and by `news-monitor tune --apply`.
watchlists:
  # The army, not the plastic: the buttons on the alerts teach `tune` which is which.
  - name: pla
    channel: "#china-tech"
    terms:
      - PLA  # the People's Liberation Army
"""
MAKERS = Site(
    "PrintShift",
    "printshift.example",
    sections=("News", "Reviews", "Guides", "Materials", "Business"),
    trending=("Five resin printers under $300, tested", "How to level a print bed in ten minutes"),
    also_read=("Our guide to drying filament at home", "The best slicers of the year"),
)
DEFENCE = Site(
    "Strait Defence Desk",
    "straitdefence.example",
    sections=("Asia", "Navy", "Air", "Land", "Analysis"),
    trending=("Japan approves a record defence budget", "Manila and Tokyo sign a troop access pact"),
    also_read=("Explainer: who commands the Eastern Theater", "Satellite images show new piers in Hainan"),
)


def story(slug: str, title: str, standfirst: str, author: str, section: str, *paragraphs: str) -> Story:
    return Story(slug, title, standfirst, author, section, paragraphs, tags=(section, "China"))


FILAMENT = [
    story(
        "kestrel-k2-review",
        "Review: the Kestrel K2 prints PLA filament straight out of the box",
        "A quiet, enclosed printer for beginners that gets the basics right, with one annoying flaw.",
        "Ana Ruiz",
        "Reviews",
        "The Kestrel K2 is the first printer we have tested this year that needed no tuning at all: we "
        "loaded a spool of PLA filament, picked a model and had a clean benchy forty minutes later.",
        "Over two weeks we printed brackets, a lamp shade and a set of chess pieces. Layer lines were "
        "even, bridges held, and the automatic bed levelling never needed a second try.",
        "The flaw is the spool holder. It sits behind the printer, so swapping PLA filament means "
        "turning the whole machine around on the desk, which gets old quickly.",
        "At $449 the K2 undercuts its rivals by about $100. If you mostly print in one material and want "
        "a printer that stays out of the way, it is an easy recommendation.",
    ),
    story(
        "lyon-recycling-startup",
        "Lyon startup turns failed prints into new PLA filament",
        "Refil Lab grinds waste from schools and print farms into pellets, and has raised €4 million.",
        "Marc Delorme",
        "Business",
        "Refil Lab, a startup founded by two engineers in Lyon, collects failed prints and empty spools "
        "from schools and print farms and turns them into new PLA filament.",
        "The company said on Monday it had raised €4 million from a regional fund and two angel "
        "investors, and would use the money to open a second line in Grenoble next spring.",
        "Its recycled PLA filament costs about the same as new spools, but colours vary from batch to "
        "batch, which the founders say most hobbyists and schools do not mind.",
        "France sends most plastic from 3D printing to landfill. Refil Lab hopes to take in 200 tonnes "
        "a year by 2027, up from 30 tonnes today.",
    ),
    story(
        "filament-prices-fall",
        "PLA filament prices fall as new factories open in Guangdong",
        "A one-kilogram spool now sells for under $12 at the big online shops, a record low.",
        "Ana Ruiz",
        "Materials",
        "The price of PLA filament has fallen by about a fifth since January, as three new factories in "
        "Guangdong came online and online shops cut prices to clear stock.",
        "Hobbyists are stocking up on colours that were hard to find last year, and several print "
        "farms told us they had signed supply contracts at the lower prices.",
        "Makers of speciality materials have not followed. Carbon-fibre blends and flexible filaments "
        "cost as much as they did a year ago, and resin prices are up slightly.",
        "Analysts expect cheap PLA filament to last into next year, unless the cost of the corn starch "
        "it is made from rises after a poor harvest.",
    ),
]
ARMY = [
    story(
        "eastern-theater-drills",
        "PLA stages large drills around Taiwan after Lai's speech",
        "Warships and aircraft from the Eastern Theater Command rehearsed a blockade of the island's ports.",
        "Wen Li",
        "Navy",
        "The PLA launched large-scale drills around Taiwan on Monday, sending warships and fighter jets "
        "to rehearse a blockade days after the island's president gave a speech on its sovereignty.",
        "Taiwan's defence ministry said it had tracked 34 aircraft and 19 ships, and had put its own "
        "forces on alert. A spokesman for the PLA's Eastern Theater Command called the exercise a warning.",
        "The United States urged restraint. Officials in Washington said they were watching the drills "
        "closely and remained in touch with their counterparts in Taipei.",
        "It was the third exercise of its kind in two years. Analysts said this one was the first to "
        "include the coast guard in the blockade of the ports.",
    ),
    story(
        "rocket-force-purge",
        "Two more PLA generals removed in Rocket Force purge",
        "China's top legislature stripped the officers of their posts without giving a reason.",
        "Daniel Ho",
        "Analysis",
        "China's top legislature removed two more senior PLA officers from its ranks on Friday, extending "
        "a purge that has swept through the Rocket Force, which runs the country's nuclear missiles.",
        "Neither officer was accused of a crime in the brief statement. Both had served in senior posts "
        "in the force's equipment department, which has been under investigation since last year.",
        "The PLA has lost at least nine generals this way since 2023, including two defence ministers, "
        "a shake-up that analysts say could slow the modernisation Xi Jinping has ordered.",
        "The defence ministry in Beijing declined to comment on Friday.",
    ),
]
LATER_FILAMENT = story(
    "silk-pla-guide", "How to print glossy silk PLA filament without stringing",
    "Lower the temperature, slow down, and dry the spool first: our settings for the shiny stuff.",
    "Marc Delorme", "Guides",
    "Silk PLA filament gives prints a metallic shine, but it strings more than the plain kind and "
    "clogs nozzles that run too hot.",
    "We printed the same vase in six colours and found that 205 degrees and a slower outer wall gave "
    "the cleanest finish on every spool.",
    "Dry the spool for four hours first. Silk PLA filament soaks up moisture from the air quickly, "
    "and wet filament pops and bubbles in the nozzle.",
)  # fmt: skip
LATER_ARMY = story(
    "pla-navy-carrier", "PLA Navy's third carrier begins sea trials",
    "The Fujian left Shanghai's shipyard for its first voyage with its electromagnetic catapults.",
    "Wen Li", "Navy",
    "The PLA Navy's third aircraft carrier, the Fujian, sailed from Shanghai on Wednesday for its first "
    "sea trials, the state broadcaster reported.",
    "The ship is the first Chinese carrier with electromagnetic catapults, which let it launch heavier "
    "aircraft than the ski-jump ramps of its two predecessors.",
    "Analysts expect months of trials before the PLA declares it ready for service.",
)  # fmt: skip


class Sites:
    """The two sites on the world's web server, each with its feed; `publish` puts a story on top."""

    def __init__(self, world: World):
        self.world = world
        self.items: dict[Site, list[dict[str, Any]]] = {MAKERS: [], DEFENCE: []}
        for site in self.items:
            world.add_feed(self._feed(site), rss_feed(site.name, []), name=site.name)

    def publish(self, site: Site, piece: Story) -> None:
        path = f"/{site.domain.split('.')[0]}/{piece.slug}/"
        link = self.world.web.add(path, news_page(site, piece), content_type="text/html")
        item = {"title": piece.title, "link": link, "guid": path, "pub_date": piece.published,
                "description": piece.standfirst}  # fmt: skip
        self.items[site].insert(0, item)
        self.world.web.add(self._feed(site), rss_feed(site.name, self.items[site]),
                           content_type="application/rss+xml")  # fmt: skip

    @staticmethod
    def _feed(site: Site) -> str:
        return f"/{site.domain.split('.')[0]}/feed/"


def news_monitor(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """`news-monitor ARGS` as a user runs it, on the world's config and watchlists files as they are."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(world.config_path), *args],
        cwd=REPO_ROOT, env=world.environment(), capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def alerts(world: World) -> dict[str, dict[str, Any]]:
    """The alerts in the channel, by title."""
    return {message_title(m): m for m in world.top_level(CHANNEL)}


def actions(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The alert's buttons, in order."""
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def marks(world: World, title: str) -> str:
    message = alerts(world)[title]
    lines = [b["elements"][0]["text"] for b in message["blocks"] if b["type"] == "context"]
    return next((line for line in lines if " by " in line), "")


def outcome(world: World, piece: Story) -> str | None:
    rows = world.store.rows("SELECT url, outcome FROM articles")
    return next((row.outcome for row in rows if row.url.endswith(f"/{piece.slug}/")), None)


def test_not_relevant_on_three_pla_filament_alerts_makes_tune_exclude_the_phrase(
    world: World, sockets: SocketModeFake, tmp_path: Path
) -> None:
    sites = Sites(world)
    for piece in FILAMENT:
        sites.publish(MAKERS, piece)
    for piece in ARMY:
        sites.publish(DEFENCE, piece)
    port = free_port()
    world.settings = {"ops": {"enabled": True, "port": port}}
    world.write_config()
    watchlists = world.folder / "watchlists.yaml"
    watchlists.write_text(WATCHLISTS, encoding="utf-8")

    service = Instance(world, tmp_path / "run.log")
    try:
        wanted = {piece.title for piece in FILAMENT + ARMY}
        wait_until(lambda: set(alerts(world)) == wanted, "the five alerts", [service])
        assert sockets.wait_for_connections(1)
        buttons = {title: actions(message) for title, message in alerts(world).items()}
        mute = {title: (row[3]["text"]["text"], row[3]["confirm"]["title"]["text"])
                for title, row in buttons.items()}  # fmt: skip
        assert mute[FILAMENT[0].title] == ("Mute PrintShift for pla", "Mute PrintShift?")
        assert mute[ARMY[0].title] == ("Mute Strait Defence Desk for pla", "Mute Strait Defence Desk?")
        values = [{button["value"] for button in row} for row in buttons.values()]
        assert all(len(value) == 1 for value in values) and len(set.union(*values)) == 5  # one per alert
        # Ana marks the three filament alerts not relevant, Dan the army ones relevant.
        verdicts = {piece.title: ("not_relevant", "U0ANA01") for piece in FILAMENT}
        verdicts |= {piece.title: ("relevant", "U0DAN02") for piece in ARMY}
        presses = [sockets.press(alerts(world)[title], f"news_monitor.{action}", user=user)
                   for title, (action, user) in verdicts.items()]  # fmt: skip
        assert all(sockets.wait_for_ack(press) for press in presses)
        shown = {
            title: f"Marked {action.replace('_', ' ')} by <@{user}>"
            for title, (action, user) in verdicts.items()
        }
        wait_until(
            lambda: {title: marks(world, title) for title in verdicts} == shown, "the rewrites", [service]
        )
        # What the operator's dashboard reads: the presses and the watchlist's precision.
        page = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        service.stop()

    assert 'news_monitor_interactions{action="not_relevant",watchlist="pla"} 3.0' in page
    assert 'news_monitor_interactions{action="relevant",watchlist="pla"} 2.0' in page
    assert 'news_monitor_watchlist_precision{watchlist="pla"} 0.4' in page

    # What an analyst runs next: `tune`, for scripts and for people.
    answer = news_monitor(world, "tune", "--json")
    assert answer.returncode == 0, answer.stderr
    report = json.loads(answer.stdout)
    assert report["watchlists"] == [{"name": "pla", "alerts": 5, "judged": 5, "relevant": 2,
                                     "not_relevant": 3, "precision": 0.4}]  # fmt: skip
    best = report["suggestions"][0]
    assert (best["kind"], best["term"], best["value"]) == ("exclude", "PLA", "PLA filament")
    assert best["backtest"] == {"kept": 2, "removed": 3, "not_relevant_removed": 3, "relevant_lost": 0}
    assert "+        exclude: [PLA filament]" in best["diff"]

    answer = news_monitor(world, "tune")
    assert answer.returncode == 0, answer.stderr
    assert "pla: 5 alert(s)" in answer.stdout
    assert "2 relevant, 3 not relevant; precision 40% (2/5)" in answer.stdout
    first = answer.stdout.split("\n  2. ")[0]
    assert (
        f"{best['number']}. [{best['id']}] exclude 'PLA filament' from term 'PLA': removes 3 alert(s) "
        "(3 not relevant), "
        "keeps 2" in first
    )
    assert "relevant lost: 0" in first

    answer = news_monitor(world, "tune", "pla", "--apply", str(best["number"]))
    assert answer.returncode == 0, answer.stderr
    assert "excluded 'PLA filament' from term 'PLA' of watchlist 'pla'" in answer.stdout
    assert "backtest now: removes 3 alert(s) (3 not relevant), keeps 2, relevant lost: 0" in answer.stdout
    written = watchlists.read_text(encoding="utf-8")
    assert "# The army, not the plastic" in written and "# the People's Liberation Army" in written
    assert "exclude: [PLA filament]" in written
    [pla] = load_config(world.config_path).watchlists
    assert [(term.term, list(term.exclude)) for term in pla.terms] == [("PLA", ["PLA filament"])]

    # The next filament article no longer alerts; the next army one does.
    sites.publish(MAKERS, LATER_FILAMENT)
    sites.publish(DEFENCE, LATER_ARMY)
    world.write_config()  # the feeds as they are now; the tuned watchlists file is kept as written
    watchlists.write_text(written, encoding="utf-8")
    answer = news_monitor(world, "once")
    assert answer.returncode == 0, answer.stderr
    assert outcome(world, LATER_FILAMENT) == "no_match"
    assert LATER_ARMY.title in alerts(world) and LATER_FILAMENT.title not in alerts(world)
