"""The service's log handler writes to stderr as it is now, so output swapped under it never breaks it.

The CLI configures logging at every start; the tests start it in-process under pytest's capture, which
closes each test's stream when the test ends. A handler bound to that stream made every later line a
"--- Logging error --- ValueError: I/O operation on closed file" traceback in the suite's output.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from monitor.logs import configure_logging

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_lines_go_to_stderr_as_it_is_when_they_are_logged(root_logging: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    with redirect_stderr(first):
        configure_logging("INFO")
        logging.getLogger("monitor.test").info("to the first")
    first.close()  # as pytest closes a test's captured stream
    with redirect_stderr(second):
        logging.getLogger("monitor.test").info("to the second")
    assert "to the second" in second.getvalue()


def test_a_captured_cli_start_leaves_no_logging_errors_for_later_tests(tmp_path: Path) -> None:
    # The two tests as the suite runs them: one configures logging under capsys, a later one logs.
    (tmp_path / "test_two.py").write_text(
        textwrap.dedent(
            """
            import logging
            from monitor.logs import configure_logging

            def test_configures_under_capsys(capsys):
                configure_logging("INFO")
                logging.getLogger("monitor.test").warning("first")

            def test_logs_later():
                logging.getLogger("monitor.test").warning("second")
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s", str(tmp_path / "test_two.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Logging error" not in output and "closed file" not in output, output
    assert "second" in output  # -s: the later test's line reached the real stderr


def test_a_log_handler_that_cannot_write_fails_the_test(tmp_path: Path) -> None:
    # tests/conftest.py's guard, on a test that logs through a handler whose stream was closed.
    (tmp_path / "conftest.py").write_text((REPO / "tests/conftest.py").read_text(encoding="utf-8"))
    (tmp_path / "test_closed.py").write_text(
        textwrap.dedent(
            """
            import io, logging

            def test_logs_to_a_closed_stream():
                stream = io.StringIO()
                handler = logging.StreamHandler(stream)
                logging.getLogger("closed").addHandler(handler)
                stream.close()
                try:
                    logging.getLogger("closed").warning("lost")
                finally:
                    logging.getLogger("closed").removeHandler(handler)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_closed.py")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "a log handler failed to write: closed 'lost'" in result.stdout, result.stdout
