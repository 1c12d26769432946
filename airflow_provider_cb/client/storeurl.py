"""The ``rate_limit_store`` URL: checked before any request, never shown with its password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.redaction import REDACTED

STORE_SCHEMES = ("redis", "rediss")
MAX_DATABASE = 15
"""Redis serves databases 0 to 15 unless configured otherwise."""


def redacted_store_url(url: str) -> str:
    """``url`` with its password replaced, safe for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparsable URL)"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def check_store_url(url: object) -> str:
    """A ``redis://`` or ``rediss://`` URL with a host and at most a database number for path."""
    if not isinstance(url, str):
        raise ChargebeeValidationError(
            "rate_limit_store", f"must be a redis:// or rediss:// URL, got {type(url).__name__}"
        )
    shown = redacted_store_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ChargebeeValidationError(
            "rate_limit_store", f"{shown!r} is not a URL with a port from 1 to 65535"
        ) from None
    if parts.scheme not in STORE_SCHEMES or not parts.hostname:
        raise ChargebeeValidationError(
            "rate_limit_store",
            f"{shown!r} must be redis://[:password@]host[:port][/db] (rediss:// for TLS)",
        )
    if port == 0:
        raise ChargebeeValidationError("rate_limit_store", "has port 0; give 1 to 65535")
    database = parts.path.strip("/")
    if database and not (
        database.isascii() and database.isdigit() and int(database) <= MAX_DATABASE
    ):
        raise ChargebeeValidationError(
            "rate_limit_store",
            f"{shown!r}: the path must be a database number from 0 to {MAX_DATABASE}",
        )
    return url
