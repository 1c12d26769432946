"""Every test file and test README.md and docs/ cite exists, so a move leaves no dead pointer."""

from __future__ import annotations

import re

from tests.docs.test_examples import PAGES
from tests.helpers import REPO

_CITED = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?")


def test_every_cited_test_file_and_test_exists() -> None:
    cited = [(page.name, *cite) for page in PAGES for cite in _CITED.findall(page.read_text())]
    missing = []
    for page, path, name in cited:
        source = REPO / path
        if not source.is_file():
            missing.append(f"{page}: {path}")
        elif name and f"def {name}(" not in source.read_text():
            missing.append(f"{page}: {path}::{name}")

    assert len(cited) > 5, "the pattern no longer finds the tests the docs cite"
    assert missing == []
