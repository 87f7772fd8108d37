"""The install: every module the service imports is a direct dependency, and the locks pin all of them.

requirements.lock (the service) and requirements-test.lock (the service and the `test` extra) are written by
scripts/lock; scripts/bootstrap, deploy/Dockerfile and .ci/run install from them with --require-hashes. That
they install with an old pip (Debian 12's 23.0.1) needs the registry, so .ci/run checks it with
scripts/check-install rather than a test here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
SERVICE_LOCK = REPO / "requirements.lock"
TEST_LOCK = REPO / "requirements-test.lock"

# Modules the service needs that no file of monitor/ imports by name (each named in pyproject.toml).
NEEDED_WITHOUT_AN_IMPORT = {
    # trafilatura imports lxml.html.clean, which lxml (since 5.2) ships as this separate package, named in
    # lxml's `html-clean` extra: pip 23.0.1 does not match that to trafilatura's `lxml[html_clean]`.
    "lxml_html_clean": "lxml-html-clean",
}


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: tuple[str, ...]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def direct_requirements(*, extras: tuple[str, ...] = ()) -> list[Requirement]:
    project = pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def read_lock(path: Path) -> list[Pin]:
    """Each `name==version ; marker --hash=...` entry of a requirements file (continuation lines joined)."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = line.split("--hash=")
        pins.append(Pin(Requirement(spec.strip()), tuple(h.strip() for h in hashes)))
    return pins


def pins_here(pins: list[Pin]) -> dict[str, str]:
    """Package -> pinned version on this interpreter (an entry whose marker holds here)."""
    chosen: dict[str, str] = {}
    for pin in pins:
        if pin.requirement.marker is None or pin.requirement.marker.evaluate():
            [specifier] = pin.requirement.specifier
            chosen[canonicalize_name(pin.requirement.name)] = specifier.version
    return chosen


def imported_top_level_modules(package: Path) -> set[str]:
    """Every top-level module imported anywhere in the package, by absolute import (lazy imports too)."""
    modules: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_every_module_the_service_imports_is_a_direct_dependency() -> None:
    third_party = {
        module
        for module in imported_top_level_modules(REPO / "monitor")
        if module not in sys.stdlib_module_names and module != "monitor"
    }
    distributions = importlib.metadata.packages_distributions()
    unknown = sorted(module for module in third_party if module not in distributions)
    assert unknown == [], f"imported by monitor/ but installed by no distribution: {unknown}"
    needed = {canonicalize_name(dist) for module in third_party for dist in distributions[module]}
    needed |= {canonicalize_name(dist) for dist in NEEDED_WITHOUT_AN_IMPORT.values()}
    declared = {canonicalize_name(r.name) for r in direct_requirements()}
    assert sorted(needed - declared) == [], "add these to [project] dependencies in pyproject.toml"


def test_the_modules_needed_without_an_import_are_importable() -> None:
    for module in NEEDED_WITHOUT_AN_IMPORT:
        __import__(module)
    import trafilatura  # noqa: F401  (it imports lxml.html.clean)


@pytest.mark.parametrize(
    ("lock", "extras"), [(SERVICE_LOCK, ()), (TEST_LOCK, ("test",))], ids=["service", "tests"]
)
def test_the_lock_pins_every_direct_dependency_within_its_range(lock: Path, extras: tuple[str, ...]) -> None:
    pinned = pins_here(read_lock(lock))
    build = [Requirement(line) for line in pyproject()["build-system"]["requires"]]
    stale = [
        f"{r} (locked: {pinned.get(canonicalize_name(r.name), 'missing')})"
        for r in direct_requirements(extras=extras) + build
        if (r.marker is None or r.marker.evaluate())
        and not r.specifier.contains(pinned.get(canonicalize_name(r.name), "0.dev0"), prereleases=True)
    ]
    assert stale == [], f"{lock.name} is out of date with pyproject.toml: run scripts/lock"


@pytest.mark.parametrize("lock", [SERVICE_LOCK, TEST_LOCK], ids=["service", "tests"])
def test_every_pin_is_exact_and_hashed(lock: Path) -> None:
    pins = read_lock(lock)
    assert len(pins) > 40
    for pin in pins:
        [specifier] = pin.requirement.specifier
        assert specifier.operator == "==", pin.requirement
        assert pin.hashes and all(h.startswith("sha256:") for h in pin.hashes), pin.requirement


def test_the_service_runs_on_the_versions_the_tests_ran_on() -> None:
    service, tests = pins_here(read_lock(SERVICE_LOCK)), pins_here(read_lock(TEST_LOCK))
    assert {name: tests.get(name) for name in service} == service
    assert {"hypothesis", "pytest", "lxml-html-clean", "setuptools"} <= tests.keys()


def test_this_environment_holds_the_locked_versions() -> None:
    # scripts/bootstrap installed requirements-test.lock; a version that differs means a stale .venv.
    locked = pins_here(read_lock(TEST_LOCK))
    for name in ("trafilatura", "lxml", "lxml-html-clean", "hypothesis", "sqlalchemy"):
        assert importlib.metadata.version(name) == locked[name], name


def test_every_installer_installs_from_the_lock_with_hashes() -> None:
    bootstrap = (REPO / "scripts/bootstrap").read_text(encoding="utf-8")
    dockerfile = (REPO / "deploy/Dockerfile").read_text(encoding="utf-8")
    check_install = (REPO / "scripts/check-install").read_text(encoding="utf-8")
    # --no-deps on the lock too: pip resolves nothing, so a release made after the lock cannot get in (pip
    # 23.0.1 re-resolved an extra once a newer lxml was out and refused the locked one as unpinned).
    assert "LOCK=requirements-test.lock" in bootstrap
    assert '--no-deps --require-hashes -r "$LOCK"' in bootstrap
    assert '"$LOCK"' in bootstrap.split("stamp=", 1)[1].split("\n", 1)[0]  # a new lock reinstalls
    assert "--no-deps --require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps --require-hashes -r requirements.lock" in check_install
    for installer in (bootstrap, dockerfile, check_install):
        assert "pip check" in installer  # the lock's set is whole
    for installer in (bootstrap, dockerfile, check_install):
        assert "--no-deps" in installer  # the project itself brings nothing unpinned
    assert "scripts/check-install" in (REPO / ".ci/run").read_text(encoding="utf-8")
