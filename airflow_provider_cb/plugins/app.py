"""The month-end page's web app, mounted by Airflow's API server under ``/chargebee``.

The page itself is plain HTML, JavaScript and CSS shipped in the package (no
CDN: it works without internet). Its data comes from ``/chargebee/api/...``,
which asks Airflow who the caller is (the UI's session cookie or a bearer
token, as every Airflow endpoint does) and shows only what DAGs the caller may
read. Ledger files are write-once, so the index keeps what it has read and a
request only lists the folders for new files.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from airflow_provider_cb.chargebee_api.storeurl import redacted_store_url
from airflow_provider_cb.ledger.index import LedgerIndex
from airflow_provider_cb.ledger.layout import REPORTS_FOLDER, period_folder, safe_name
from airflow_provider_cb.ledger.summary import TaskSummary
from airflow_provider_cb.operators.ledger import ledger_location, ledger_root
from airflow_provider_cb.plugins import budget, views

STATIC = Path(__file__).parent / "static"
REPORT_TYPES = {".md": "text/markdown; charset=utf-8", ".csv": "text/csv; charset=utf-8"}


@cache
def ledger_index(location: str) -> LedgerIndex:
    """One index per ledger location, for the life of the API server."""
    return LedgerIndex(ledger_root(location))


def readable_dag_ids(user: GetUserDep) -> set[str]:
    """The DAGs the caller may read, as Airflow's auth manager decides."""
    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


Readable = Annotated[set[str], Depends(readable_dag_ids)]


def connection_reader(user: GetUserDep) -> Callable[[str], bool]:
    """Whether the caller may read a connection, as Airflow's auth manager decides."""
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails

    manager = get_auth_manager()
    return lambda conn_id: manager.is_authorized_connection(
        method="GET", details=ConnectionDetails(conn_id=conn_id), user=user
    )


MayReadConnection = Annotated[Callable[[str], bool], Depends(connection_reader)]


def visible(dag_ids: set[str]) -> list[TaskSummary]:
    return views.readable(ledger_index(ledger_location()).refresh(), dag_ids)


def _period(dag_ids: set[str], site: str, period: str) -> tuple[list[TaskSummary], bool]:
    """The period's task tries the caller may read, and whether they may read all of them.

    A month report covers every DAG of the period: it is shown only to who may read them all.
    """
    members = [
        s
        for s in ledger_index(ledger_location()).refresh()
        if (s.identity.get("site"), s.identity.get("period")) == (site, period)
    ]
    shown = views.readable(members, dag_ids)
    if not shown:
        raise HTTPException(404, f"no ledger for {site} {period} that you may read")
    return shown, len(shown) == len(members)


def create_app() -> FastAPI:
    app = FastAPI(title="Chargebee month-end", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/periods")
    def periods(dag_ids: Readable) -> dict[str, Any]:
        summaries = visible(dag_ids)
        return {
            "ledger": redacted_store_url(ledger_location()),
            "dag_ids": sorted({str(s.identity.get("dag_id")) for s in summaries}),
            "periods": views.periods(summaries),
        }

    @app.get("/api/budgets")
    def budgets(may_read: MayReadConnection) -> dict[str, Any]:
        """Each site's shared rate budget, for the Chargebee connections the caller may read."""
        readable = [c for c in budget.chargebee_connection_ids() if may_read(c)]
        return {"budgets": budget.site_budgets(readable)}

    @app.get("/api/periods/{site}/{period}")
    def period(site: str, period: str, dag_ids: Readable) -> dict[str, Any]:
        members, whole = _period(dag_ids, site, period)
        reports: list[str] = []
        if whole:
            folder = period_folder(ledger_root(), site, period) / REPORTS_FOLDER
            if folder.exists():
                reports = sorted((f.name for f in folder.iterdir()), reverse=True)
        return views.period_detail(members, site, period, reports)

    @app.get("/api/reports/{site}/{period}/{name}")
    def month_report(site: str, period: str, name: str, dag_ids: Readable) -> PlainTextResponse:
        kind = Path(name).suffix
        if safe_name(name) != name or kind not in REPORT_TYPES:
            raise HTTPException(404, "no such report")
        if not _period(dag_ids, site, period)[1]:
            raise HTTPException(403, "the month report covers DAGs you may not read")
        report = period_folder(ledger_root(), site, period) / REPORTS_FOLDER / name
        if not report.exists():
            raise HTTPException(404, "no such report")
        return PlainTextResponse(report.read_text(encoding="utf-8"), media_type=REPORT_TYPES[kind])

    @app.get("/api/task-reports/{site}/{period}/{kind}")
    def task_report(
        site: str, period: str, kind: str, file: str, dag_ids: Readable
    ) -> PlainTextResponse:
        """A task's audit report (CSV or its Markdown), where the task wrote it."""
        if f".{kind}" not in REPORT_TYPES:
            raise HTTPException(404, "no such report")
        for summary in _period(dag_ids, site, period)[0]:
            who = summary.identity
            named = (
                f"{who.get('dag_id')}/{who.get('run_id')}/{who.get('task_id')}"
                f"/{who.get('map_index')}/{who.get('try_number')}"
            )
            if named == file and who.get("report_path"):
                from airflow.sdk import ObjectStoragePath

                target = str(who["report_path"])
                target = target if "://" in target else "file://" + target
                path = ObjectStoragePath(target[: -len(".csv")] + f".{kind}")
                if path.exists():
                    return PlainTextResponse(
                        path.read_text(encoding="utf-8"), media_type=REPORT_TYPES[f".{kind}"]
                    )
        raise HTTPException(404, "no such report")

    return app
