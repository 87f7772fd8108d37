"""The running service around the pipeline: when to look, which process looks, and what it reports.

    assembly.py      the collaborators a pipeline needs (store, HTTP client, notifiers, outbox), always closed
    scheduler.py     the service loop: APScheduler decides when; the store says which feeds are due
    fleet.py         this process as a member of a fleet sharing one store
    interactivity.py the buttons on alerts: Socket Mode started with `run`, presses handed to the desk
    ops.py           GET /healthz and /metrics; ops_listener.py its sockets
    report.py        what `run` and `once` say at start-up and after each cycle

May import pipeline, stories, delivery, stages, storage, config and the foundations; only monitor.cli
imports it.
"""
