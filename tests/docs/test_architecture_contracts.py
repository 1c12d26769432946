"""docs/architecture.md quotes every import contract pyproject.toml holds, word for word.

``lint-imports`` itself runs in scripts/test.sh and in tests/contract/test_import_boundary.py.
"""

from __future__ import annotations

import re
import tomllib

from tests.helpers import REPO


def test_architecture_md_quotes_every_contract() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    contracts = tomllib.loads(pyproject)["tool"]["importlinter"]["contracts"]
    architecture = (REPO / "docs" / "architecture.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", architecture, re.S)
    quoted = tomllib.loads("\n".join(blocks))["tool"]["importlinter"]["contracts"] if blocks else []
    assert len(contracts) >= 4
    assert quoted == contracts
