"""Stories: which story an article reports and what that means for Slack, decided in publication order.

    desk.py            the story desk: copy, near-copy, same story, and the Slack messages each outcome sends
                       (a story's first alert in a channel, then replies in its thread)
    decision_order.py  decisions in publication order, whatever order a cycle's articles finish in
    report.py          `news-monitor stories`: recent stories and why each article joined

The scoring itself is a stage (monitor.stages.stories, monitor.stages.neardup); this package decides with
it. May import stages, storage, config and the foundations; imported by the pipeline and cli.
"""
