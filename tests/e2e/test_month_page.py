"""The Chargebee month-end page on a live Airflow, in headless Chromium, with two users.

Three periods of real runs (two month-end closes of the example DAG, one close that
meets voided invoices) and a write-off waiting for approval; a controller (admin) sees
them all, with working links, and the budget a shared store learned for the site; a user without a role may read no DAG and sees nothing,
in the page and in its API. The screenshot goes to a temporary folder, or to
``CHARGEBEE_SCREENSHOTS`` (scripts/refresh-screenshots.sh sets it to docs/images).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pendulum
import pytest

from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.chargebee_api.sharedbudget import SharedBudget
from tests.e2e.browser import CHROMIUM, Page, chromium_page
from tests.e2e.live import DAG_FILES, LiveAirflow, _token, live_airflow, poll
from tests.redis_server import RedisServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason=f"{CHROMIUM} is missing (Debian's chromium; .ci/run installs it)",
    ),
]

CLOSE_ANY = Path(__file__).parent / "month_page" / "chargebee_close_any_status.py"
MONTH_END, WRITE_OFF = "chargebee_month_end", "chargebee_write_off_old_debt"
USERS = {"controller": "admin", "outsider": ""}
"""The outsider has no role: Airflow's simple auth manager lets them read no DAG."""


def middle_of(month: str) -> int:
    return int(pendulum.parse(f"{month}-15T12:00:00Z").timestamp())


@pytest.fixture(scope="module")
def budget_store() -> Iterator[ClientSettings]:
    """A site with a shared store; no DAG uses its connection."""
    with RedisServer(password="s3cret-page-store") as store:
        yield ClientSettings(
            api_key="test_key", site="acme", requests_per_minute=600, rate_limit_store=store.url
        )


def learn_two_429s(site: ClientSettings) -> None:
    """Two site-limit 429s at 600/min, as a worker's budget would learn them."""
    shared = SharedBudget(site)
    try:
        paced_at = shared.acquire()
        shared.slow_down(paced_at)
        shared.slow_down(paced_at)
    finally:
        shared.close()


@pytest.fixture(scope="module")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, budget_store: ClientSettings
) -> Iterator[tuple[LiveAirflow, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("month-page")
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    (folder / "passwords.json").write_text(json.dumps(passwords))
    settings = {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(folder / "passwords.json"),
        "AIRFLOW__CHARGEBEE__LEDGER_PATH": str(folder / "ledger"),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs the test starts
        "AIRFLOW_CONN_CHARGEBEE_BUDGET": json.dumps(
            {
                "conn_type": "chargebee",
                "host": "acme",
                "password": budget_store.api_key,
                "extra": {
                    "requests_per_minute": 600,
                    "rate_limit_store": budget_store.rate_limit_store,
                },
            }
        ),
    }
    dag_files = (*(f for f in DAG_FILES if f.stem in (MONTH_END, WRITE_OFF)), CLOSE_ANY)
    with live_airflow(
        folder,
        dag_files=dag_files,
        settings=settings,
        login=("controller", passwords["controller"]),
    ) as live:
        yield live, passwords


def run_three_periods(live: LiveAirflow, reports: Path) -> None:
    """July and August closed by the month-end example; September meets voided invoices."""
    live.control(
        "seed",
        {
            "count": 4,
            "prefix": "jul_",
            "date": middle_of("2026-07"),
            "currency_code": "EUR",
            "amount_due": 25007,
        },
    )
    live.control(
        "seed",
        {
            "count": 3,
            "prefix": "aug_",
            "date": middle_of("2026-08"),
            "currency_code": "JPY",
            "amount_due": 10000,
        },
    )
    live.control(
        "seed",
        {
            "count": 2,
            "prefix": "sep_",
            "date": middle_of("2026-09"),
            "currency_code": "KWD",
            "amount_due": 12345,
        },
    )
    live.control("seed", {"count": 2, "prefix": "sep_void_", "date": middle_of("2026-09"),
                          "status": "voided"})  # fmt: skip
    conf = {"report_dir": str(reports)}
    runs = [
        (MONTH_END, "close-2026-07", "2026-08-01T03:00:00+00:00"),
        (MONTH_END, "close-2026-08", "2026-09-01T03:00:00+00:00"),
        ("chargebee_close_any_status", "close-2026-09", "2026-10-01T00:00:00+00:00"),
    ]
    for dag_id, run_id, logical_date in runs:
        live.trigger(dag_id, run_id, logical_date=logical_date, conf=conf)
    live.trigger(WRITE_OFF, "write-off", conf=conf)
    for dag_id, run_id, _ in runs:
        assert live.wait_for_run(dag_id, run_id, timeout=240) == "success"

    def asked() -> bool | None:
        return (
            live.task_state(WRITE_OFF, "write-off", "approve_write_off") == "awaiting_input" or None
        )

    poll("the write-off approval", asked, 120)


def sign_in(page: Page, live: LiveAirflow, token: str) -> None:
    """The UI's session cookie, as Airflow's login sets it."""
    page.call("Network.enable")
    page.call("Network.setCookie", name="_token", value=token, url=live.base_url, path="/")


def open_page(page: Page, url: str) -> None:
    page.call("Page.enable")
    page.call("Page.navigate", url=url)


def texts(page: Page, selector: str) -> list[str]:
    return list(
        page.evaluate(f"[...document.querySelectorAll({selector!r})].map(e => e.innerText)")
    )


def hrefs(page: Page, selector: str) -> list[str]:
    return list(page.evaluate(f"[...document.querySelectorAll({selector!r})].map(a => a.href)"))


def fetch_text(page: Page, url: str) -> str:
    """What the page's own session gets at ``url``."""
    result = page.call(
        "Runtime.evaluate",
        expression=f"fetch({url!r}).then(r => r.text())",
        awaitPromise=True,
        returnByValue=True,
    )
    return str(result["result"]["value"])


def api(live: LiveAirflow, token: str, path: str) -> httpx.Response:
    return httpx.get(live.base_url + path, headers={"Authorization": f"Bearer {token}"})


def test_the_month_end_page_shows_the_periods_to_who_may_read_them(
    airflow: tuple[LiveAirflow, dict[str, str]], budget_store: ClientSettings, tmp_path: Path
) -> None:
    live, passwords = airflow
    run_three_periods(live, tmp_path / "reports")
    acted = pendulum.now("UTC").format("YYYY-MM")
    learn_two_429s(budget_store)
    controller = live.api.headers["Authorization"].removeprefix("Bearer ")
    outsider = _token(live.api, ("outsider", passwords["outsider"]))
    assert outsider is not None
    shots = Path(os.environ.get("CHARGEBEE_SCREENSHOTS") or tmp_path)
    base = live.base_url

    with chromium_page(height=1400) as page:
        sign_in(page, live, controller)
        # The menu entry opens the page inside the Airflow UI.
        open_page(page, f"{base}/plugin/chargebee-month-end")
        page.wait_for(
            "the page in the UI", "document.querySelector('iframe[src$=\"/chargebee/\"]')"
        )

        open_page(page, f"{base}/chargebee/")
        page.wait_for("the periods", "document.querySelectorAll('#periods tbody tr').length === 4")
        page.wait_for("the approval", "document.querySelectorAll('#approval-list a').length === 1")
        periods = texts(page, "#periods tbody tr td:first-child")
        # The write-off's preview selects by age: filed under the month it ran in.
        assert [p.split("\n")[0] for p in periods] == [acted, "2026-09", "2026-08", "2026-07"]
        page.wait_for(
            "the site budget", "document.querySelectorAll('#budget-table tr').length === 2"
        )
        [budget] = texts(page, "#budget-table tbody tr")
        assert budget.startswith("chargebee_budget\tacme (acme.chargebee.com)\t500/min")
        assert "\t2 since " in budget and "s3cret" not in page.evaluate("document.body.innerText")
        page.click("document.querySelector('#periods tr[data-period=\"2026-09\"]')")
        page.wait_for(
            "September's runs",
            "document.getElementById('detail-title').innerText.startsWith('2026-09')"
            " && document.querySelectorAll('#runs tbody tr').length > 0",
        )
        body = page.evaluate("document.body.innerText")
        assert "done 2" in body and "KWD 24.690" in body  # September, in major units
        attention = texts(page, "#attention tbody tr")
        assert sorted(row.split("\t")[0] for row in attention) == [
            "sep_void_000001",
            "sep_void_000002",
        ]
        assert all("not_eligible" in row and "voided" in row for row in attention)
        assert "https://acme.chargebee.com/d/invoices/sep_void_000001" in hrefs(
            page, "#attention a"
        )
        log = f"{base}/dags/chargebee_close_any_status/runs/close-2026-09/tasks/close_any"
        assert f"{log}?try_number=1" in hrefs(page, "#runs a")
        [approval] = hrefs(page, "#approval-list a")
        assert approval == (
            f"{base}/dags/{WRITE_OFF}/runs/write-off/tasks/approve_write_off/required_actions"
        )
        task_report = [h for h in hrefs(page, "#runs a") if "task-reports" in h and "/md?" in h]
        assert fetch_text(page, task_report[0]).startswith("# Chargebee close report")
        page.screenshot("document.body", shots / "month-view.png")

        # July: the month-end example wrote its month report; the page links it.
        page.click("document.querySelector('#periods tr[data-period=\"2026-07\"]')")
        page.wait_for("July's reports", "document.querySelector('#reports a')")
        [report] = [link for link in hrefs(page, "#reports a") if link.endswith(".md")]
        text = fetch_text(page, report)
        assert text.startswith("# Chargebee month report: 2026-07 (2026-07-01..2026-07-31 UTC")
        assert "| close | done | 4 | EUR 1,000.28 |" in text

        sign_in(page, live, outsider)
        open_page(page, f"{base}/chargebee/")
        page.wait_for(
            "the outsider's answer", "document.getElementById('status')?.innerText.length > 20"
        )
        assert page.evaluate("document.getElementById('status').innerText") == (
            "No ledger entries from DAGs you may read."
        )
        assert "2026-07" not in page.evaluate("document.body.innerText")

    # The outsider's own requests: Airflow refuses the DAG, the page's API shows nothing.
    assert api(live, outsider, f"/api/v2/dags/{MONTH_END}").status_code == 403
    assert api(live, outsider, "/chargebee/api/periods").json()["periods"] == []
    assert api(live, outsider, "/chargebee/api/budgets").json()["budgets"] == []
    assert api(live, outsider, "/chargebee/api/periods/acme/2026-07").status_code == 404
    assert api(live, controller, "/chargebee/api/periods/acme/2026-07").status_code == 200
    assert httpx.get(f"{base}/chargebee/api/periods").status_code == 401  # no session at all
