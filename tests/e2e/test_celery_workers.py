"""One Chargebee site's rate budget, shared by two Celery workers of a real distributed Airflow.

The example month-end DAG closes last month's invoices in chunks spread over both
workers while the dunning-control DAG acts on others, all against one emulated site
that refuses more than ``LIMIT`` requests a minute. Then a worker is SIGKILLed in
the middle of a chunk, which the other worker retries. What happened is judged by
the site's own records, not Airflow's: every request, every 429, every action
applied to an invoice.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cb.testing.emulator import ChargebeeEmulator
from tests.e2e import postgres
from tests.e2e.distributed import Cluster, distributed_airflow
from tests.e2e.live import CANARY_KEY, SEED_DATE, SITE, poll

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(postgres.missing()) and not os.environ.get("CI"),
        reason=f"{', '.join(postgres.missing())} missing (Debian's packages; .ci/run installs them)",
    ),
]

LIMIT = 1_800
"""The site's requests per minute, and the connection's: ~30 seconds for the first run."""
MONTH_END = "chargebee_month_end"
DUNNING = "chargebee_dunning_control"
CLOSE = "close_pending"
CHUNK_SIZE = 100
"""The example DAG's chunks, scaled down from its 500 with the invoice counts."""
PENDING = 300
"""Three chunks: more than one worker's two slots hold."""
DUNNING_EACH = 50
KILL_PENDING = 200
KILL_AFTER_CLOSES = 30
RUN_TIMEOUT = 240.0
DAG_EDITS = {
    "CHUNK_SIZE = 500": f"CHUNK_SIZE = {CHUNK_SIZE}",
    # The killed chunk's retry comes seconds after the heartbeat timeout, not a minute.
    '"retry_delay": pendulum.duration(minutes=1)': '"retry_delay": pendulum.duration(seconds=2)',
    # With a rate_limit_store the site's limit is set once, on the connection, as the
    # DAG's docstring says: the chunks no longer split it between them.
    "        requests_per_minute=SITE_REQUESTS_PER_MINUTE // POOL_SLOTS,  # no store: split the limit\n": "",
}


@pytest.fixture(scope="module")
def site() -> Iterator[ChargebeeEmulator]:
    # Counted over any 60 seconds: the window that forgives no burst.
    with ChargebeeEmulator(
        CANARY_KEY, site=SITE, requests_per_minute=LIMIT, rate_limit_window="sliding"
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def cluster(site: ChargebeeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with distributed_airflow(tmp_path_factory.mktemp("celery"), site, DAG_EDITS) as running:
        yield running


def seed(site: ChargebeeEmulator, count: int, status: str, **fields: Any) -> list[str]:
    """``count`` invoices dated last month, numbered on from the site's last one."""
    start = len(site.invoices()) + 1
    return site.seed(count, status=status, start=start, date=int(SEED_DATE.timestamp()), **fields)


def chunks(cluster: Cluster, run_id: str) -> list[dict[str, Any]]:
    return [ti for ti in cluster.live.task_instances(MONTH_END, run_id) if ti["task_id"] == CLOSE]


def all_chunks_running(cluster: Cluster, run_id: str, expected: int) -> bool | None:
    states = [ti["state"] for ti in chunks(cluster, run_id)]
    assert not {"failed", "upstream_failed"} & set(states), f"chunks ended {states}"
    return states.count("running") == expected or None


def applied(site: ChargebeeEmulator) -> dict[tuple[str, str], int]:
    """How many times each action changed each invoice, by the site's records."""
    return dict(Counter((record.invoice_id, record.action) for record in site.applied_actions))


def figures(site: ChargebeeEmulator) -> dict[str, Any]:
    """Requests, 429s, and the share of the limit used while the month-end chunks close.

    The window runs from the first close to the last: the chunks (and the dunning DAG
    beside them) have work for every slot then. Before it, Celery takes seconds to
    start the chunks; after it, the dunning DAG's tasks start one by one: neither says
    anything about how the budget is shared.
    """
    requests = site.requests.snapshot()
    closes = [r.at for r in requests if r.method == "POST" and r.path.endswith("/close")]
    start, end = closes[0], closes[-1]
    busy = sum(start <= record.at <= end for record in requests)
    span = end - start
    return {
        "seconds": round(span, 1),
        "requests": len(requests),
        "429s": sum(record.status == 429 for record in requests),
        "used": round((busy - 1) / (span * LIMIT / 60), 3),
    }


def test_both_dags_on_both_workers_use_the_site_limit_without_a_429(
    site: ChargebeeEmulator, cluster: Cluster, tmp_path: Path
) -> None:
    closes = seed(site, PENDING, "pending")
    stops = seed(site, DUNNING_EACH, "payment_due")
    pauses = seed(site, DUNNING_EACH, "payment_due")
    resumes = seed(
        site, DUNNING_EACH, "payment_due", expected_payment_date=int(time.time()) + 864_000
    )
    live = cluster.live

    live.trigger(MONTH_END, "close_1", conf={"report_dir": str(tmp_path)})
    # Three chunks on four slots, two a worker: both workers hold one at least.
    poll("the three chunks to run", lambda: all_chunks_running(cluster, "close_1", 3), 120)
    live.trigger(DUNNING, "dunning_1", conf={"stop": stops, "pause": pauses, "resume": resumes})

    assert live.wait_for_run(MONTH_END, "close_1", RUN_TIMEOUT) == "success"
    assert live.wait_for_run(DUNNING, "dunning_1", RUN_TIMEOUT) == "success"
    assert {ti["hostname"] for ti in chunks(cluster, "close_1")} == set(cluster.workers)
    assert live.xcom(MONTH_END, "close_1", "report") == {"done": PENDING}
    expected = {
        **{(invoice, "close"): 1 for invoice in closes},
        **{(invoice, "stop_dunning"): 1 for invoice in stops},
        **{(invoice, "pause_dunning"): 1 for invoice in pauses},
        **{(invoice, "resume_dunning"): 1 for invoice in resumes},
    }
    assert applied(site) == expected
    used = figures(site)
    print(f"two DAGs on two Celery workers, {LIMIT}/min site: {used}")
    assert used["429s"] == 0
    assert used["used"] >= 0.9


def test_a_chunk_of_a_killed_worker_is_retried_on_the_other_without_duplicates(
    site: ChargebeeEmulator, cluster: Cluster, tmp_path: Path
) -> None:
    site.reset_log()
    closes = seed(site, KILL_PENDING, "pending")
    live = cluster.live
    live.trigger(MONTH_END, "close_2", conf={"report_dir": str(tmp_path)})

    def mid_chunk() -> str | None:
        """The host of the first chunk, once it runs and its closes are landing."""
        hosts = [
            ti["hostname"]
            for ti in chunks(cluster, "close_2")
            if ti["map_index"] == 0 and ti["state"] == "running"
        ]
        return hosts[0] if hosts and site.count_applied("close") >= KILL_AFTER_CLOSES else None

    victim = poll("the first chunk to be part-way", mid_chunk, 120, 0.2)
    cluster.kill_worker(victim)
    closed_before_kill = site.count_applied("close")

    assert live.wait_for_run(MONTH_END, "close_2", RUN_TIMEOUT) == "success"
    tries = live.get(f"/api/v2/dags/{MONTH_END}/dagRuns/close_2/taskInstances/{CLOSE}/0/tries")
    (survivor,) = set(cluster.workers) - {victim}
    hosts = [(t["try_number"], t["hostname"]) for t in tries["task_instances"]]
    assert hosts == [(1, victim), (2, survivor)]
    summary = live.xcom(MONTH_END, "close_2", CLOSE, map_index=0)
    # One summary for the whole task: the first try's closes stay done, credited to it
    # (the journal), and the retry sent only the rest.
    assert summary["counts"] == {"done": CHUNK_SIZE}, summary["counts"]
    assert summary["tries"] == [1, 2]
    by_try = summary["counts_by_try"]
    assert by_try["1"].get("done", 0) > 0 and by_try["2"].get("done", 0) > 0, by_try
    assert applied(site) == {(invoice, "close"): 1 for invoice in closes}
    assert [i for i in site.invoices() if i["status"] == "pending"] == []
    used = figures(site)
    print(
        f"worker killed after {closed_before_kill} closes; chunk 0 retried as {summary['counts']}; "
        f"{used}"
    )
    assert used["429s"] == 0  # the dead worker's share of the budget did not linger
