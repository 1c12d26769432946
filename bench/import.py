"""Import cost: what ``import airflow_provider_cb.operators`` adds over ``import airflow.sdk``.

DAG files are parsed every few seconds, so the operators module must stay cheap.
Each sample is a fresh interpreter that imports ``airflow.sdk`` first, then times
the operators import with ``time.perf_counter``; the median of ``--samples`` is
reported, with the modules the import added and whether it loaded anything heavy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import cast

from bench.common import REPO, emit

HEAVY = ("fastapi", "uvicorn", "starlette", "airflow_provider_cb.testing", "chargebee")
"""Modules a DAG file parse must not pay for; httpx is excluded as airflow.sdk loads it."""

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
import airflow_provider_cb.operators
t2 = time.perf_counter()
added = sorted(set(sys.modules) - before)
print(json.dumps({"sdk_ms": (t1 - t0) * 1000, "operators_ms": (t2 - t1) * 1000,
                  "added": added}))
"""


def sample() -> dict[str, object]:
    """One fresh interpreter: nothing is cached in sys.modules from an earlier sample."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import")
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args(argv)

    sample()  # warm the file-system cache and the bytecode caches
    samples = [sample() for _ in range(args.samples)]
    operators = [float(str(s["operators_ms"])) for s in samples]
    sdk = [float(str(s["sdk_ms"])) for s in samples]
    added = [str(module) for module in cast(list[object], samples[-1]["added"])]
    heavy = sorted({m for m in added for h in HEAVY if m == h or m.startswith(h + ".")})
    figures = {
        "operators_extra_ms": round(statistics.median(operators), 1),
        "operators_extra_max_ms": round(max(operators), 1),
        "airflow_sdk_ms": round(statistics.median(sdk), 1),
        "modules_added": len(added),
        "heavy_modules": len(heavy),
    }
    emit("import", figures, samples=args.samples, added=added, heavy=heavy)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
