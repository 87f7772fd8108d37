"""A wrong join never hides a match (issue 14): an outlet's later article of a story is an "Update from"
reply in the story's thread, never silence, end to end against the Slack fake.

Same set-up as test_story_threads.py: corpus articles served by the local web server under feeds named
after their outlets, the real pipeline (`once`), the real slack-sdk client talking to the fake.
"""

from __future__ import annotations

import html
import json
from typing import Any

from tests.support.world import World, message_title
from tests.test_story_threads import CORPUS, Newsroom, outlets_line, thread_replies, top_level

# An article about another event whose page kept a sidebar of teasers about the Alibaba-PLA memo story
# (issue 14 met it as a new user: "PLA navy holds drills" folded a T-Head data-centre article into the
# memo story). The teasers' names and words make it score about 0.43 against the memo's reports.
WRONG_JOIN = {
    "title": "China Unicom puts T-Head chips to work in its Sanjiangyuan data centre",
    "text": "\n".join(
        [
            "China Unicom has switched on a computing cluster built on T-Head chips in its Sanjiangyuan data "
            "centre in Qinghai, the carrier said on Monday, one of the largest deployments so far of "
            "processors designed by Alibaba's semiconductor unit.",
            "The cluster runs on T-Head's Zhenyue storage controllers and Yitian 710 server processors, and "
            "will serve artificial intelligence workloads for provincial government agencies and "
            "state-owned companies, China Unicom said in a statement.",
            "Domestic carriers have been under pressure to replace foreign processors in their data centres "
            "since Washington tightened export controls on advanced chips. China Unicom said the Qinghai "
            "site, powered largely by hydroelectric and solar energy, would add 1,500 petaflops of "
            "computing capacity by the end of next year.",
            "T-Head, founded in 2018, sells its designs to cloud providers and device makers. Analysts said "
            "the order showed Alibaba's chip unit winning customers beyond its parent's own cloud business, "
            "though volumes remain small next to those of Huawei's Ascend line.",
            "China Unicom did not disclose the value of the contract. Its shares rose 1.2 per cent in "
            "Shanghai.",
            "Related stories",
            "PLA navy holds drills as Alibaba rejects White House memo claims it helped China's People's "
            "Liberation Army target the United States",
            "Alibaba denies Financial Times report it supplied the PLA with customer data",
            "Alibaba fires back at White House memo: the e-commerce group called the Financial Times report "
            "that it gave the People's Liberation Army customer data, IP addresses and payment records for "
            'operations against the United States "completely false".',
            "Beijing says the memo on Alibaba and the PLA is a malicious smear",
            "PLA navy holds drills in the East China Sea",
            "Alibaba shares slide after White House national security memo: Hong Kong-listed shares of "
            "Alibaba Group fell as investors weighed declassified intelligence that the company supplied "
            "artificial intelligence services to China's military.",
        ]
    ),
}


def posts(world: World) -> list[dict[str, Any]]:
    """The body of every chat.postMessage request, alerts and replies, in order."""
    return [r["body"] for r in world.slack.requests("chat.postMessage")]


def test_an_outlets_second_article_of_a_story_is_an_update_in_the_thread(world: World, capsys: Any) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    [alert] = top_level(world)
    assert "Carried by 2 outlets: FinanceBlog, Mint" in outlets_line(alert)
    updates_before = len(alert["history"])

    news.publish("Mint", "s01-a3")  # Mint's second write-up of the memo story: Mint is in the thread
    assert world.once() == 0
    [alert] = top_level(world)
    first, update = thread_replies(world, alert)
    assert first["text"].startswith("Also reported by Mint: ")
    assert update["text"].startswith("Update from Mint: <http://127.0.0.1:")
    assert html.escape(CORPUS["s01-a3"]["title"], quote=False) in update["text"]
    assert update["text"].endswith("> (127.0.0.1)")  # the one reply builder: the real host beside the link
    [request] = [b for b in posts(world) if b.get("text", "").startswith("Update from")]
    assert request["thread_ts"] == alert["ts"] and request["parse"] == "none"
    assert not update["reply_broadcast"]
    # Mint was counted already: the alert is not rewritten, and still says two outlets.
    assert len(alert["history"]) == updates_before
    assert "Carried by 2 outlets: FinanceBlog, Mint" in outlets_line(alert)

    capsys.readouterr()
    assert world.run_cli("stories", "--since", "1d", "--json") == 0
    [story] = json.loads(capsys.readouterr().out)
    assert [a["outcome"] for a in story["articles"]] == ["alerted", "replied", "replied"]


def test_an_update_is_never_broadcast(world: World) -> None:
    world.settings["stories"] = {"broadcast_at": 2}
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    news.publish("FinanceBlog", "s01-a3")  # the alert's own outlet follows up
    assert world.once() == 0
    [alert] = top_level(world)
    replies = thread_replies(world, alert)
    assert [(r["text"].split(":")[0], r["reply_broadcast"]) for r in replies] == [
        ("Also reported by Mint", True),
        ("Update from FinanceBlog", False),
    ]


def test_a_wrongly_joined_article_still_reaches_slack(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Mint"])
    news.publish("FinanceBlog", "s01-a1")
    assert world.once() == 0
    news.publish("Mint", "s01-a2")
    assert world.once() == 0
    news.publish("Mint", "x-thead", article=WRONG_JOIN)  # about T-Head chips; its sidebar, the memo story
    assert world.once() == 0
    title = html.escape(WRONG_JOIN["title"], quote=False)
    # Wherever grouping puts it (a thread reply when it joins the memo story, its own alert otherwise),
    # it is in Slack under its own headline.
    shown = [message_title(m) for m in top_level(world)] + [
        r["text"] for m in top_level(world) for r in thread_replies(world, m)
    ]
    assert any(title in text for text in shown), shown
