"""The API key stays secret: out of errors, reprs, logs, XCom and rendered fields; TLS and redirects.

The key used throughout is long and distinctive, so any leak of it, of the Basic
token made from it or of a recognisable part of it is found. Airflow masks known
secrets in rendered template fields, so there the check is that nothing needed
masking at all (no ``***``); logs and XCom of a ``dag.test()`` run are not masked.
The check inside a supervised Airflow run (scheduler, API server) lives elsewhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import logging
import socket
import ssl
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
    InvalidStateError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.invoicing.action_table import CLOSE
from airflow_provider_cb.invoicing.bulk_runs import run_bulk
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.invoicing.outcomes import perform_action
from airflow_provider_cb.testing import ChargebeeEmulator
from airflow_provider_cb.testing.dags import DagFolder
from tests.reliability.support import TinyServer, connection_json

KEY = "test_Sup3rS3cretKey_9f8e7d6c5b4a"
WRONG_KEY = "live_Wr0ngS3cretKey_1a2b3c4d5e6f"
LOGGERS = ("", "httpx", "httpcore", "airflow_provider_cb", "airflow")


def secret_forms(*keys: str) -> list[str]:
    """The key, the Basic token built from it, a part of the key no other text has, and the
    key and token as hex dumps in either case."""
    forms: list[str] = []
    for key in keys:
        token = base64.b64encode(f"{key}:".encode()).decode()
        dumps = [key.encode().hex(), token.encode().hex()]
        forms += [key, token, token[:20], key[5:19], *dumps, *(d.upper() for d in dumps)]
    return forms


def assert_clean(text: str, where: str) -> None:
    for form in secret_forms(KEY, WRONG_KEY):
        assert form not in text, f"a form of the API key appears in {where}"


def exception_texts(error: BaseException) -> str:
    """Message, repr and full traceback of an error and every error chained to it."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), *traceback.format_exception(current)]
        parts += [repr(vars(current))] if hasattr(current, "__dict__") else []
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def log_texts(caplog: pytest.LogCaptureFixture) -> str:
    lines = [caplog.text]
    for record in caplog.records:
        lines += [record.getMessage(), repr(record.args), record.exc_text or ""]
    return "\n".join(lines)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


@pytest.fixture
def emulator() -> Iterator[ChargebeeEmulator]:
    with ChargebeeEmulator(KEY) as running:
        running.seed(3, status="pending")
        yield running


def _echo_credentials(status: int, content_type: str) -> Callable[..., Any]:
    """A server that puts the caller's credentials in its error body, as a debug proxy might."""

    def answer(
        method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        auth = headers.get("authorization", "")
        decoded = base64.b64decode(auth.partition(" ")[2] or b"").decode()
        if content_type == "json":
            body = json.dumps(
                {
                    "message": f"no access for {decoded} ({auth}; {auth.encode().hex()})",
                    "api_error_code": "api_authentication_failed",
                    "param": decoded.rstrip(":"),
                    "type": "untyped",
                }
            ).encode()
            return status, {"Content-Type": "application/json"}, body
        # A debugging proxy's hex dump of the header, and of the key in upper case.
        dumps = f"{auth.encode().hex()}\n{decoded.encode().hex().upper()}"
        page = f"<html><body><h1>{status}</h1><pre>Authorization: {auth}\nuser={decoded}\n{dumps}</pre></body></html>"
        return status, {"Content-Type": "text/html"}, page.encode()

    return answer


@dataclass(frozen=True)
class ErrorPath:
    id: str
    expected: type[ChargebeeError]
    fault: str | None = None
    key: str = KEY
    invoice_id: str = "inv_000001"
    action: str = "get"
    """``get`` reads the invoice; ``close`` / ``write_off`` post the action."""
    server: Callable[..., Any] | None = None
    """Serve from a hostile stand-in instead of the emulator."""
    closed_port: bool = False
    max_retries: int = 0


ERROR_PATHS = [
    ErrorPath("401_wrong_key_read", AuthenticationError, key=WRONG_KEY),
    ErrorPath("401_wrong_key_post", AuthenticationError, key=WRONG_KEY, action="close"),
    ErrorPath("404_unknown_invoice", NotFoundError, invoice_id="missing_1"),
    ErrorPath("409_wrong_state", InvalidStateError, action="write_off"),
    ErrorPath("429_rate_limit", RateLimitError, fault="rate_limit", action="close"),
    ErrorPath("429_no_retry_after", RateLimitError, fault="rate_limit_no_retry_after"),
    ErrorPath("429_lock_timeout", RateLimitError, fault="lock_timeout", action="close"),
    ErrorPath("503_site_not_ready", ServerError, fault="site_not_ready", action="close"),
    ErrorPath("502_html_page", ServerError, fault="gateway_html_502", action="close"),
    ErrorPath("504_html_page", ServerError, fault="gateway_html_504"),
    ErrorPath(
        "502_after_retries", ServerError, fault="gateway_html_502", action="close", max_retries=2
    ),
    ErrorPath(
        "reset_before_request", ChargebeeTransportError, fault="reset_before", action="close"
    ),
    ErrorPath("response_lost", ChargebeeTransportError, fault="lose_response", action="close"),
    ErrorPath("response_too_slow", ChargebeeTransportError, fault="slow_response", action="close"),
    ErrorPath("malformed_json", ChargebeeTransportError, fault="malformed_json"),
    ErrorPath("connection_refused", ChargebeeTransportError, closed_port=True),
    ErrorPath("echoing_401_json", AuthenticationError, server=_echo_credentials(401, "json")),
    ErrorPath(
        "echoing_400_json_post",
        AuthenticationError,  # its body's api_error_code decides, not the 400
        server=_echo_credentials(400, "json"),
        action="close",
    ),
    ErrorPath(
        "echoing_502_html", ServerError, server=_echo_credentials(502, "html"), action="close"
    ),
    ErrorPath(
        "echoing_503_html_retried",
        ServerError,
        server=_echo_credentials(503, "html"),
        max_retries=1,
    ),
    ErrorPath(
        "echoing_200_not_json", ChargebeeTransportError, server=_echo_credentials(200, "html")
    ),
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("path", ERROR_PATHS, ids=[p.id for p in ERROR_PATHS])
def test_error_paths_keep_the_key_out_of_errors_records_and_debug_logs(
    path: ErrorPath, emulator: ChargebeeEmulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    emulator.faults.slow_seconds = 0.6
    if path.fault is not None:
        emulator.faults.script([path.fault] * (path.max_retries + 1))
    with TinyServer(path.server or _echo_credentials(500, "html")) as hostile:
        if path.server is not None:
            base_url = hostile.base_url
        elif path.closed_port:
            base_url = f"http://127.0.0.1:{_closed_port()}"
        else:
            base_url = emulator.base_url
        settings = ClientSettings(
            api_key=path.key,
            base_url=base_url,
            timeout=0.3,
            max_retries=path.max_retries,
            lift_rate_budget=True,
        )
        with ChargebeeClient(settings) as client:
            with pytest.raises(path.expected) as caught:
                if path.action == "get":
                    client.get_invoice(path.invoice_id)
                else:
                    client.invoke(path.action, path.invoice_id, idempotency_key="k-1")
            record = perform_action(
                client, CLOSE, "inv_000002", fields={}, idempotency_key="k-2"
            ).as_dict()
            texts = [exception_texts(caught.value), json.dumps(record), repr(client)]
        if path.server is not None:
            assert hostile.requests, "the hostile server was never asked"
    assert caught.value.attempts == path.max_retries + 1
    assert_clean("\n".join(texts), f"the error of {path.id}")
    assert_clean(log_texts(debug_logs), f"the DEBUG logs of {path.id}")
    assert any(r.name.startswith("httpcore") for r in debug_logs.records)


def test_the_hooks_connection_test_does_not_show_a_rejected_key(
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    conn = json.loads(connection_json(emulator))
    conn["password"] = WRONG_KEY
    monkeypatch.setenv("AIRFLOW_CONN_CB_WRONG", json.dumps(conn))
    hook = ChargebeeHook("cb_wrong")
    ok, message = hook.test_connection()
    assert not ok and "401" in message
    assert_clean(message + repr(hook), "test_connection")
    assert_clean(log_texts(debug_logs), "the DEBUG logs of test_connection")


def test_reprs_never_show_the_key(emulator: ChargebeeEmulator) -> None:
    settings = ClientSettings(api_key=KEY, base_url=emulator.base_url, lift_rate_budget=True)
    with ChargebeeClient(settings) as client:
        response = client.invoke("close", "inv_000001", idempotency_key="k-1")
        record = perform_action(client, CLOSE, "inv_000002", fields={}, idempotency_key="k-2")
        summary = run_bulk(
            ["inv_000003"],
            lambda i: perform_action(client, CLOSE, i, fields={}, idempotency_key=f"k-{i}"),
            action="close",
            total=1,
            max_workers=1,
            is_failure=lambda r: False,
        )
        texts = [
            repr(settings),
            str(settings),
            repr(client),
            repr(client.transport),
            repr(client.transport._http),
            repr(response),
            repr(record),
            json.dumps(summary.as_dict()),
            repr(summary),
        ]
    assert_clean("\n".join(texts), "a repr")
    assert KEY in settings.api_key  # the key is there, only never shown


def test_validation_errors_about_the_connection_do_not_show_the_key() -> None:
    bad: list[dict[str, Any]] = [
        {"site": "acme/evil"},
        {"site": "acme", "protocol": "http"},
        {"base_url": "http://example.com"},
        {"base_url": "ftp://127.0.0.1"},
        {"site": "acme", "port": 0},
        {"site": "acme", "timeout": -1.0},
    ]
    for fields in bad:
        with pytest.raises(ChargebeeValidationError) as caught:
            ClientSettings(api_key=KEY, **fields)
        assert_clean(exception_texts(caught.value), f"the error for {fields}")
    with pytest.raises(ChargebeeValidationError) as caught:
        ClientSettings(api_key=KEY + " ", site="acme")
    assert_clean(exception_texts(caught.value), "the error for a malformed key")


STORE_PASSWORD = "St0re/P4ss-w0rd-8d7c"
UNPLACEABLE_STORES = {
    "unencoded_slash": "redis://:St0re/P4ss-w0rd-8d7c@127.0.0.1:{port}/0",
    "password_in_query": "redis://127.0.0.1:{port}/0?password=St0re%2FP4ss-w0rd-8d7c",
}


def store_forms(password: str) -> list[str]:
    """The store's password and the parts of it on either side of its '/', in any encoding."""
    parts = [password, *password.split("/")]
    return [
        form
        for part in parts
        for form in (part, quote(part, safe=""), part.encode().hex(), part.encode().hex().upper())
    ]


@pytest.mark.parametrize("form", UNPLACEABLE_STORES)
def test_a_store_url_whose_password_cannot_be_placed_is_refused_unseen(
    form: str,
    emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    """Both forms leaked the password when the store was down; now neither is used."""
    store = UNPLACEABLE_STORES[form].format(port=_closed_port())
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARGEBEE_DEFAULT", connection_json(emulator, rate_limit_store=store)
    )
    hook = ChargebeeHook()

    with pytest.raises(ChargebeeError) as caught:
        hook.get_invoice("inv_000001")

    assert isinstance(caught.value, ChargebeeValidationError), exception_texts(caught.value)
    assert caught.value.param == "rate_limit_store"
    text = exception_texts(caught.value) + log_texts(debug_logs) + repr(hook)
    leaked = [part for part in store_forms(STORE_PASSWORD) if part in text]
    assert leaked == [], text
    assert not emulator.requests


def test_every_form_of_every_secret_is_registered_with_the_masker(
    emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    store = f"redis://:{quote(STORE_PASSWORD, safe='')}@127.0.0.1:{_closed_port()}/0"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CHARGEBEE_DEFAULT", connection_json(emulator, rate_limit_store=store)
    )
    ChargebeeHook().connection_settings()

    forms = [*secret_forms(KEY)[:2], *secret_forms(KEY)[4:], *store_forms(STORE_PASSWORD)[:4]]
    for secret in (KEY, STORE_PASSWORD):
        forms += [base64.b64encode(secret.encode()).decode(), quote(secret, safe="")]
    unmasked = [form for form in forms if form in str(airflow_redact(f"echo: {form} ."))]
    assert unmasked == []


SECRETS_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator

with DAG("secrets_in_a_run", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={"retries": 0}) as dag:
    select = ListInvoicesOperator(task_id="select", status="pending", period="all")
    # Runs first, so the scripted faults land on its POSTs.
    close_many = CloseInvoiceOperator(task_id="close_many", max_workers=1,
                                      invoice_ids=["inv_000002", "inv_000003", "inv_000004"])
    select >> close_many >> [
        CloseInvoiceOperator(task_id="close_one", invoice_id="inv_000001", skip_events=["email"],
                             comment="closed by {{ dag.dag_id }} in {{ run_id }}"),
        CloseInvoiceOperator(task_id="preview", invoice_ids=["inv_000005"], dry_run=True),
        CloseInvoiceOperator(task_id="missing", invoice_id="missing_1"),
        CloseInvoiceOperator(task_id="wrong_key", invoice_id="inv_000006", chargebee_conn_id="cb_wrong"),
        CloseInvoiceOperator(task_id="gateway", invoice_ids=["inv_000007", "inv_000008"],
                             chargebee_conn_id="cb_gateway"),
    ]
"""


def test_a_dag_run_keeps_the_key_out_of_logs_xcom_and_rendered_fields(
    capfd: pytest.CaptureFixture[str],
    chargebee_dags: DagFolder,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with (
        ChargebeeEmulator(KEY) as emulator,
        TinyServer(_echo_credentials(502, "html")) as gateway,
    ):
        emulator.seed(8, status="pending")
        # Retried faults on the bulk task's POSTs put warnings with error text in the log.
        emulator.faults.script(
            ["gateway_html_502", "reset_before", "lose_response", "lock_timeout"],
            only_methods={"POST"},
        )
        monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", connection_json(emulator))
        wrong = json.loads(connection_json(emulator))
        wrong["password"] = WRONG_KEY
        monkeypatch.setenv("AIRFLOW_CONN_CB_WRONG", json.dumps(wrong))
        monkeypatch.setenv(
            "AIRFLOW_CONN_CB_GATEWAY",
            json.dumps(
                {
                    "conn_type": "chargebee",
                    "password": KEY,
                    "extra": {
                        "base_url": gateway.base_url,
                        "max_retries": 1,
                        "lift_rate_budget": True,
                    },
                }
            ),
        )
        dag_run = chargebee_dags.load("secrets_in_a_run", SECRETS_DAG).test()
        assert gateway.requests and emulator.faults.remaining == 0

    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert states == {
        "select": "success",
        "close_one": "success",
        "close_many": "success",
        "preview": "success",
        "missing": "failed",
        "wrong_key": "failed",
        "gateway": "failed",
    }
    with create_session() as session:
        xcoms = (
            session.query(XComModel).filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id).all()
        )
        rendered = (
            session.query(RenderedTaskInstanceFields)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id)
            .all()
        )
        xcom_text = json.dumps([[x.task_id, x.key, x.value] for x in xcoms], default=str)
        rendered_text = json.dumps([[r.task_id, r.rendered_fields] for r in rendered], default=str)
    logs = "".join(capfd.readouterr()) + log_texts(debug_logs)

    # The error paths really ran and their details reached XCom and the task logs.
    # Every action task pushes its result first, whatever ends it (the failing ones too).
    assert {x.task_id for x in xcoms if x.key == "chargebee_result"} == {
        "close_many",
        "close_one",
        "preview",
        "missing",
        "wrong_key",
        "gateway",
    }
    assert "api_authentication_failed" in xcom_text and "http_502" in xcom_text
    assert "retry 4 of 4" in logs and "retry 1 of 1" in logs
    assert "Task failed with exception" in logs and "api_authentication_failed" in logs
    assert len(rendered) == len(states)
    assert_clean(xcom_text, "XCom")
    assert_clean(rendered_text, "rendered template fields")
    assert "***" not in rendered_text, "a rendered field held a secret Airflow had to mask"
    assert_clean(logs, "the task logs")


def test_certificates_are_verified_by_default(tmp_path: Path) -> None:
    settings = ClientSettings(api_key=KEY, base_url="https://127.0.0.1:1", max_retries=0)
    with ChargebeeClient(settings) as client:
        context = client.transport._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True

    received: list[bytes] = []
    with SelfSignedServer(tmp_path, received) as port:
        settings = ClientSettings(api_key=KEY, base_url=f"https://127.0.0.1:{port}", max_retries=0)
        with ChargebeeClient(settings) as client, pytest.raises(ChargebeeTransportError) as caught:
            client.get_invoice("inv_000001")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert caught.value.sent is False
    assert received == [], "an HTTP request (with the key) got through an unverified TLS handshake"
    assert_clean(exception_texts(caught.value), "the TLS error")


class SelfSignedServer:
    """A TLS server with a self-signed certificate for 127.0.0.1; records any bytes it decrypts."""

    def __init__(self, folder: Path, received: list[bytes]) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        cert_file, key_file = folder / "cert.pem", folder / "key.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert_file, key_file)
        self._received = received
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self._sock.settimeout(10)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            try:
                with self._context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(5)
                    self._received.append(tls.recv(65536))
            except (ssl.SSLError, OSError):
                pass

    def __enter__(self) -> int:
        self._thread.start()
        return int(self._sock.getsockname()[1])

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(timeout=10)
        self._sock.close()


REDIRECTS = [301, 302, 303, 307, 308]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("status", REDIRECTS)
def test_redirects_are_never_followed(status: int, method: str) -> None:
    with TinyServer(lambda *_: (200, {"Content-Type": "application/json"}, b"{}")) as elsewhere:
        target = f"{elsewhere.base_url}/api/v2/invoices/inv_000001"
        with TinyServer(lambda *_: (status, {"Location": target}, b"")) as site:
            settings = ClientSettings(
                api_key=KEY, base_url=site.base_url, max_retries=3, lift_rate_budget=True
            )
            with ChargebeeClient(settings) as client:
                assert client.transport._http.follow_redirects is False
                with pytest.raises(ChargebeeAPIError) as caught:
                    if method == "GET":
                        client.get_invoice("inv_000001")
                    else:
                        client.invoke("close", "inv_000001")
    assert caught.value.http_status == status
    assert len(site.requests) == 1, "a redirect is an answer, not something to retry"
    assert elsewhere.requests == [], "the redirect was followed, with the key"


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"base_url": "http://127.0.0.1:8080"}, True),
        ({"base_url": "http://127.9.9.9:8080"}, True),
        ({"base_url": "http://localhost:8080"}, True),
        ({"base_url": "http://[::1]:8080"}, True),
        ({"base_url": "https://proxy.example.com"}, True),
        ({"base_url": "http://example.com"}, False),
        ({"base_url": "http://10.0.0.5:8080"}, False),
        ({"base_url": "http://192.168.1.10"}, False),
        ({"base_url": "http://0.0.0.0:8080"}, False),
        ({"base_url": "http://127.0.0.1.nip.io"}, False),
        ({"base_url": "http://localhost.example.com"}, False),
        ({"base_url": "http://[::ffff:a00:5]"}, False),
        ({"site": "acme", "protocol": "http"}, False),
        ({"site": "acme", "protocol": "http", "environment": "example.com"}, False),
        ({"base_url": "http://example.com", "allow_insecure_http": True}, True),
        ({"site": "acme", "protocol": "http", "allow_insecure_http": True}, True),
    ],
)
def test_plain_http_only_to_loopback_unless_explicitly_allowed(
    fields: dict[str, Any], allowed: bool
) -> None:
    if allowed:
        settings = ClientSettings(api_key=KEY, **fields)
        assert settings.server_url().startswith(("http://", "https://"))
        return
    with pytest.raises(ChargebeeValidationError) as caught:
        ClientSettings(api_key=KEY, **fields)
    assert caught.value.param in ("base_url", "protocol")
    assert "clear" in str(caught.value)
