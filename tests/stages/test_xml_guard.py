"""The XML guard's prolog scan: the same answers as the regex it replaced, in constant memory."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from monitor.stages.xml_guard import declaration_end

# The declaration regex the guard used before: right, but a backtracking frame per character.
_OLD_DECLARATION = re.compile(r"""<!(?:[^>"'\[]|"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))*""")

_MARKUP = st.text(alphabet=st.sampled_from(list("<!>\"'[]?-xa E")), max_size=60)


@given(before=_MARKUP, rest=_MARKUP)
def test_a_declaration_ends_where_the_old_regex_said(before: str, rest: str) -> None:
    text = before + "<!" + rest
    start = len(before)
    old = _OLD_DECLARATION.match(text, start)
    assert old is not None
    assert declaration_end(text, start + 2) == old.end()
