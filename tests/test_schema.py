"""`news-monitor schema`: the JSON Schemas in config/ are generated from the models and never drift."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from monitor.cli.main import main
from monitor.config import parse_duration
from monitor.config.schema import DURATION_PATTERN
from tests.support.world import REPO_ROOT

CONFIG = REPO_ROOT / "config"
SCHEMAS = ("monitor.schema.json", "watchlists.schema.json")


def load_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONFIG / name).read_text(encoding="utf-8"))
    return loaded


def test_committed_schemas_are_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(CONFIG / "monitor.yaml")
    assert main(["--config", config, "schema", "--output", str(tmp_path)]) == 0
    for name in SCHEMAS:
        assert (tmp_path / name).read_text(encoding="utf-8") == (CONFIG / name).read_text(encoding="utf-8"), (
            f"config/{name} is out of date with monitor/config/: run `news-monitor schema` and commit it"
        )
    assert main(["--config", config, "schema", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_schemas_go_next_to_the_config_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(CONFIG / "monitor.yaml", tmp_path / "monitor.yaml")
    assert main(["--config", str(tmp_path / "monitor.yaml"), "schema"]) == 0
    assert capsys.readouterr().out == "".join(f"wrote {tmp_path / name}\n" for name in SCHEMAS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.schema.json", "monitor.yaml", *SCHEMAS[1:]]


def test_check_names_missing_and_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "monitor.schema.json").write_text("{}\n", encoding="utf-8")
    assert main(["--config", str(tmp_path / "monitor.yaml"), "schema", "--check"]) == 1
    err = capsys.readouterr().err
    assert f"missing or out of date: {tmp_path / SCHEMAS[0]}, {tmp_path / SCHEMAS[1]}" in err
    assert not (tmp_path / SCHEMAS[1]).exists()


def test_unwritable_folder_is_a_runtime_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert main(["schema", "--output", str(tmp_path / "file" / "sub")]) == 1
    assert "schema: cannot write into" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text", ["30s", "10m", "2h", "3d", "1.5h", " 5 m ", "0s", "10", "3 days", "-5m", "1w", "", "5M", "1.m"]
)
def test_duration_pattern_reads_what_parse_duration_reads(text: str) -> None:
    try:
        parse_duration(text, allow_zero=True)
        accepted = True
    except ValueError:
        accepted = False
    # JSON Schema patterns are ECMA-262; this one uses nothing that differs from Python's re.
    assert bool(re.search(DURATION_PATTERN, text)) == accepted


def test_durations_are_strings_written_like_the_files() -> None:
    monitor = load_schema("monitor.schema.json")
    interval = monitor["$defs"]["PollSettings"]["properties"]["interval"]
    assert interval["type"] == "string" and interval["pattern"] == DURATION_PATTERN
    assert interval["default"] == "10m"
    assert monitor["properties"]["poll"]["default"]["max_age"] == "3d"
    text = json.dumps(monitor)
    assert '"format": "duration"' not in text and '"PT' not in text and '"P3D"' not in text


def test_plain_terms_and_inline_lists_are_described() -> None:
    watchlists = load_schema("watchlists.schema.json")
    terms = watchlists["$defs"]["WatchlistConfig"]["properties"]["terms"]["items"]
    assert {"type": "string", "description": "a term with the default settings"} in terms["anyOf"]
    monitor = load_schema("monitor.schema.json")
    inline = monitor["properties"]["watchlists"]["anyOf"]
    assert inline[0]["type"] == "string" and inline[1]["items"] == {"$ref": "#/$defs/WatchlistConfig"}
    assert monitor["$defs"]["WatchlistConfig"] == watchlists["$defs"]["WatchlistConfig"]
    assert monitor["properties"]["sites"]["anyOf"][1]["additionalProperties"] == {
        "$ref": "#/$defs/SiteRuleConfig"
    }


@pytest.mark.parametrize(
    ("yaml_name", "schema_name"), [("monitor.yaml", SCHEMAS[0]), ("watchlists.yaml", SCHEMAS[1])]
)
def test_shipped_examples_name_and_satisfy_their_schema(yaml_name: str, schema_name: str) -> None:
    text = (CONFIG / yaml_name).read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={schema_name}"
    schema = load_schema(schema_name)
    assert problems(YAML(typ="safe").load(text), schema, schema) == []


def test_the_schema_flags_what_check_would() -> None:
    schema = load_schema("watchlists.schema.json")
    data = {"watchlists": [{"name": "x", "channel": 5, "terms": ["A", {"term": "B", "aliases": "C"}]}]}
    assert problems(data, schema, schema) == ["watchlists.0.channel", "watchlists.0.terms.1.aliases"]
    monitor = load_schema("monitor.schema.json")
    data = {
        "slack": {"default_channel": "#a"},
        "feeds": [{"url": "u", "intervall": "5m"}],
        "poll": {"interval": "5"},
    }
    assert problems(data, monitor, monitor) == ["feeds.0.intervall", "poll.interval"]


def problems(value: Any, node: dict[str, Any], root: dict[str, Any], where: str = "") -> list[str]:
    """Where `value` breaks `node`: just the JSON Schema keywords these schemas use (no library needed)."""
    if "$ref" in node:
        return problems(value, root["$defs"][node["$ref"].rsplit("/", 1)[-1]], root, where)
    if "anyOf" in node:
        branches = [problems(value, branch, root, where) for branch in node["anyOf"]]
        deeper = [found for found in branches if found != [where]]  # the branch of the value's own type
        return [] if [] in branches else deeper[0] if deeper else [where]
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if node.get("type") == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = "type" not in node or isinstance(value, types[node["type"]])
    if not ok or ("pattern" in node and not re.search(node["pattern"], value)):
        return [where]
    if value not in node.get("enum", [value]) or value != node.get("const", value):
        return [where]
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            inner = node.get("properties", {}).get(key, node.get("additionalProperties", True))
            at = f"{where}.{key}".lstrip(".")
            if inner is False:  # additionalProperties: false
                found.append(at)
            elif isinstance(inner, dict):
                found += problems(item, inner, root, at)
        found += [f"{where}.{key}".lstrip(".") for key in node.get("required", ()) if key not in value]
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            found += problems(item, node["items"], root, f"{where}.{index}".lstrip("."))
    return found
