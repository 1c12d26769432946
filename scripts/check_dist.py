"""Check a built wheel and sdist against the checkout: what a user installs must be complete.

Usage: python scripts/check_dist.py DIST_DIR

Every module and data file of the package that git tracks must be in the wheel, with
the licence, the provider and pytest entry points and the version the package declares.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "airflow_provider_cb"
ENTRY_POINTS = {
    "apache_airflow_provider": "provider_info",
    "airflow.plugins": "chargebee_month_end",
    "pytest11": "chargebee_emulator",
}


def tracked_package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", PACKAGE], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.split()
    return {name for name in listed if not name.endswith((".pyc", ".md"))}


def version() -> str:
    namespace: dict[str, str] = {}
    exec((REPO / PACKAGE / "__init__.py").read_text(), namespace)
    return namespace["__version__"]


def check_wheel(wheel: Path, expected_version: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = sorted(tracked_package_files() - names)
        problems += [f"wheel lacks {name}" for name in missing]
        dist_info = f"airflow_provider_chargebee-{expected_version}.dist-info"
        if f"{dist_info}/licenses/LICENSE" not in names:
            problems.append("wheel lacks the LICENSE file")
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
        for group, name in ENTRY_POINTS.items():
            if not entry_points.has_option(group, name):
                problems.append(f"wheel lacks the entry point {group}:{name}")
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        for needed in (
            f"Version: {expected_version}",
            "License-Expression: Apache-2.0",
            "Classifier: Framework :: Apache Airflow :: Provider",
            "Project-URL: Changelog",
        ):
            if needed not in metadata:
                problems.append(f"wheel metadata lacks {needed!r}")
    print(f"{wheel.name}: {len(names)} files, {len(tracked_package_files())} package files checked")
    return problems


def check_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    needed = {"LICENSE", "README.md", "pyproject.toml", *tracked_package_files()}
    print(f"{sdist.name}: {len(names)} files")
    return [f"sdist lacks {name}" for name in sorted(needed - names)]


def main(dist: Path) -> int:
    expected_version = version()
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {dist}", file=sys.stderr)
        return 1
    problems = check_wheel(wheels[0], expected_version) + check_sdist(sdists[0])
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
