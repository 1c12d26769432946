"""The ``rate_limit_store`` URL: checked before any request, never shown with its password.

Only forms whose password can be found for certain are accepted: the password
sits in the user-info part (``redis://[user]:password@host``), percent-encoded
where it holds ``/``, ``?``, ``#`` or ``@``. A query string (redis-py would read
``?password=`` there) and an ``@`` after the host (an unencoded ``/`` in the
password moves the rest of it into the path) are refused without quoting the
URL, since what is secret in it cannot be told for certain.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.redaction import REDACTED

STORE_SCHEMES = ("redis", "rediss")
MAX_DATABASE = 15
"""Redis serves databases 0 to 15 unless configured otherwise."""
_FORM = "redis://[:password@]host[:port][/db] (rediss:// for TLS)"


def redacted_store_url(url: str) -> str:
    """``url`` with its password replaced, safe for logs and error messages.

    Only meaningful for a URL :func:`check_store_url` accepted; anything else is
    shown as its scheme alone.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparsable URL)"
    if _ambiguous(url):
        return f"{parts.scheme}://(not shown)"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def store_secrets(url: str) -> list[str]:
    """The store's password as written in the URL and as sent to Redis (decoded)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    if not password:
        return []
    return sorted({password, unquote(password)}, key=len, reverse=True)


def _ambiguous(url: str) -> bool:
    """Whether a secret may sit outside the user-info part, where no one can find it for sure."""
    rest = url.partition("://")[2]
    after_authority = rest[len(urlsplit(url).netloc) :]
    return "@" in after_authority or "?" in after_authority or "#" in after_authority


def check_store_url(url: object) -> str:
    """A ``redis://`` or ``rediss://`` URL with a host and at most a database number for path."""
    if not isinstance(url, str):
        raise ChargebeeValidationError(
            "rate_limit_store", f"must be a redis:// or rediss:// URL, got {type(url).__name__}"
        )
    try:
        ambiguous = _ambiguous(url)
    except ValueError:
        ambiguous = True
    if ambiguous:
        raise ChargebeeValidationError(
            "rate_limit_store",
            f"must be {_FORM} without a query or fragment; the URL is not shown, as it may "
            "hold a password where it cannot be found for certain: give the password in the "
            "user-info part, not as ?password=, and percent-encode '/', '?', '#' and '@' "
            "in it (%2F, %3F, %23, %40)",
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
        raise ChargebeeValidationError("rate_limit_store", f"{shown!r} must be {_FORM}")
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
