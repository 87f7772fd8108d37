"""Configuration: the validated model of monitor.yaml + watchlists.yaml (+ sites.yaml), read with line
numbers, its JSON Schemas, live reload, and round-trip edits of the YAML a person wrote.

    model.py         the pydantic model and loading
    yaml_source.py   YAML read with line numbers; validation errors that name file, line and key
    schema.py        JSON Schemas generated from the model (`news-monitor schema`)
    cron.py          digest schedules in cron syntax
    reload.py        live reload for `run`
    yaml_edit.py     round-trip YAML edits (comments and order kept)
    watch_edit.py    `watch add/remove/list` on top of yaml_edit

May import monitor.query and the foundations at the package root (models, errors, text, logs, redact);
never storage, stages or anything above them.
"""
