"""Connection settings and the choice of server.

The server is ``{protocol}://{site}[-test].{environment}[:{port}]/api/{version}``,
or ``{base_url}/api/{version}`` when a base URL overrides scheme, host and port
(for a proxy or the emulator).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.storeurl import check_store_url

ApiVersion = Literal["v1", "v2"]
"""Which of Chargebee's API versions a request goes to (v1 for a few actions)."""

DEFAULT_ENVIRONMENT = "chargebee.com"
_SITE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
_API_KEY = re.compile(r"[A-Za-z0-9_\-.]{8,200}")
_API_PATH = re.compile(r"/api(?:/v[12])?/?$")
MIN_TIMEOUT_SECONDS = 0.1
MAX_TIMEOUT_SECONDS = 600
MIN_REQUESTS_PER_MINUTE = 1
MAX_REQUESTS_PER_MINUTE = 100_000
MAX_RETRIES = 20
DEFAULT_MAX_CONCURRENT_REQUESTS = 50
"""Chargebee caps concurrent requests per site (about 50 on test sites, 100 on live
ones): 50 fits both and leaves live sites room for other integrations."""
MAX_CONCURRENT_REQUESTS = 1000
DEFAULT_REQUESTS_PER_MINUTE = 150
"""The pace without ``requests_per_minute``: the limit of every test site and of the
lowest live plan, so no site is pushed over its limit by default. No further headroom
is taken off: a site that shares its budget with other integrations sets its own."""
SITE_BLOCK_SECONDS = 60.0
"""How long a site over its limit is blocked when a 429 does not say (Chargebee: until
the minute's window resets). ``rate_limit_block_seconds`` shortens it for tests."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ascii_match(pattern: re.Pattern[str], text: str) -> bool:
    """A full match of ASCII only: with IGNORECASE, the Kelvin sign and the long s match [a-z]."""
    return text.isascii() and pattern.fullmatch(text) is not None


def _without_userinfo(url: str) -> str:
    """The URL for an error message: whatever precedes '@' in the authority is cut out."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url.rpartition("@")[2]
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ClientSettings:
    """Everything needed to reach one Chargebee site. The key is kept out of repr."""

    api_key: str = field(repr=False)
    site: str | None = None
    test_site: bool = False
    environment: str = DEFAULT_ENVIRONMENT
    protocol: str = "https"
    port: int | None = None
    base_url: str | None = None
    timeout: float = 30.0
    max_retries: int = 4
    requests_per_minute: float | None = None
    allow_insecure_http: bool = False
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS
    rate_limit_store: str | None = field(default=None, repr=False)
    """A Redis URL; may hold a password, so it stays out of repr."""
    lift_rate_budget: bool = False
    """For tests against the emulator: no client-side pace, whatever is configured."""
    rate_limit_block_seconds: float = SITE_BLOCK_SECONDS
    """How long a 429 without ``Retry-After`` holds the site back."""

    def __post_init__(self) -> None:
        self._check_api_key()
        self._check_numbers()
        if not isinstance(self.lift_rate_budget, bool):
            raise ChargebeeValidationError(
                "lift_rate_budget", f"must be true or false, got {self.lift_rate_budget!r:.40}"
            )
        if self.rate_limit_store is not None:
            check_store_url(self.rate_limit_store)
        if self.site is not None and not isinstance(self.site, str):
            raise ChargebeeValidationError(
                "site", f"must be a string, got {type(self.site).__name__}"
            )
        if self.site and (
            not _is_ascii_match(_SITE, self.site) or self.site.lower().endswith("-test")
        ):
            raise ChargebeeValidationError(
                "site",
                f"{self.site!r} is not a site name: letters, digits and '-' only, "
                "without '-test' (set test_site instead)",
            )
        if not isinstance(self.environment, str) or not _is_ascii_match(_DOMAIN, self.environment):
            raise ChargebeeValidationError(
                "environment", f"{self.environment!r} is not a domain name like 'chargebee.com'"
            )
        if self.base_url is not None:
            self._check_base_url()
            return
        if not self.site:
            raise ChargebeeValidationError(
                "site", "is required (the connection's host, e.g. 'acme'), or set base_url"
            )
        if self.protocol not in ("https", "http"):
            raise ChargebeeValidationError(
                "protocol", f"{self.protocol!r} is not supported; use 'https'"
            )
        if self.protocol == "http" and not self.allow_insecure_http:
            raise ChargebeeValidationError(
                "protocol",
                "'http' would send the API key in clear; use https "
                "(or set allow_insecure_http for a trusted proxy)",
            )

    def _check_api_key(self) -> None:
        if not isinstance(self.api_key, str) or not self.api_key.strip():
            raise ChargebeeValidationError(
                "api_key", "is missing (set the connection's password to the API key)"
            )
        if ":" in self.api_key:
            raise ChargebeeValidationError(
                "api_key",
                "contains ':', which Basic authentication cannot carry in a user name; "
                "paste the key alone",
            )
        if not _API_KEY.fullmatch(self.api_key):
            raise ChargebeeValidationError(
                "api_key",
                "has characters or a length an API key cannot have "
                "(spaces, control characters or quotes?)",
            )

    def _check_numbers(self) -> None:
        if self.port is not None and not (_is_integer(self.port) and 0 < self.port < 65536):
            raise ChargebeeValidationError("port", f"{self.port!r} is not a port from 1 to 65535")
        if not _is_number(self.timeout) or not (
            MIN_TIMEOUT_SECONDS <= self.timeout <= MAX_TIMEOUT_SECONDS
        ):
            raise ChargebeeValidationError(
                "timeout",
                f"{self.timeout!r} must be seconds from {MIN_TIMEOUT_SECONDS} "
                f"to {MAX_TIMEOUT_SECONDS}",
            )
        if not _is_integer(self.max_retries) or not 0 <= self.max_retries <= MAX_RETRIES:
            raise ChargebeeValidationError(
                "max_retries",
                f"{self.max_retries!r} must be a whole number from 0 to {MAX_RETRIES}",
            )
        if self.requests_per_minute is not None and not (
            _is_number(self.requests_per_minute)
            and MIN_REQUESTS_PER_MINUTE <= self.requests_per_minute <= MAX_REQUESTS_PER_MINUTE
        ):
            raise ChargebeeValidationError(
                "requests_per_minute",
                f"{self.requests_per_minute!r} must be from {MIN_REQUESTS_PER_MINUTE} "
                f"to {MAX_REQUESTS_PER_MINUTE}",
            )
        if not _is_number(self.rate_limit_block_seconds) or not (
            0 <= self.rate_limit_block_seconds <= MAX_TIMEOUT_SECONDS
        ):
            raise ChargebeeValidationError(
                "rate_limit_block_seconds",
                f"{self.rate_limit_block_seconds!r} must be seconds from 0 "
                f"to {MAX_TIMEOUT_SECONDS}",
            )
        if not _is_integer(self.max_concurrent_requests) or not (
            1 <= self.max_concurrent_requests <= MAX_CONCURRENT_REQUESTS
        ):
            raise ChargebeeValidationError(
                "max_concurrent_requests",
                f"{self.max_concurrent_requests!r} must be a whole number from 1 "
                f"to {MAX_CONCURRENT_REQUESTS}",
            )

    def _check_base_url(self) -> None:
        if not isinstance(self.base_url, str):
            raise ChargebeeValidationError(
                "base_url", f"must be a URL string, got {type(self.base_url).__name__}"
            )
        if not self.base_url.isascii():
            raise ChargebeeValidationError(
                "base_url", "must be ASCII (write an international host name as xn--...)"
            )
        try:
            parts = urlsplit(self.base_url)
            port = parts.port
        except ValueError:
            raise ChargebeeValidationError(
                "base_url",
                f"{_without_userinfo(self.base_url)!r} is not a URL with a port from 1 to 65535",
            ) from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ChargebeeValidationError(
                "base_url",
                f"{_without_userinfo(self.base_url)!r} must be an absolute http(s) URL with a host",
            )
        if port == 0:
            raise ChargebeeValidationError("base_url", "has port 0; give a port from 1 to 65535")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ChargebeeValidationError(
                "base_url", "must not carry credentials, a query or a fragment"
            )
        if _API_PATH.search(parts.path):
            raise ChargebeeValidationError(
                "base_url",
                f"ends in {parts.path!r}, which the client adds itself; drop it "
                f"(e.g. {parts.scheme}://{parts.netloc})",
            )
        if parts.scheme == "http" and not (
            _is_loopback(parts.hostname) or self.allow_insecure_http
        ):
            raise ChargebeeValidationError(
                "base_url",
                f"plain http to {parts.hostname!r} would send the API key in clear; "
                "use https, a loopback address, or set allow_insecure_http",
            )

    @property
    def pace(self) -> float | None:
        """Requests per minute the client sends at: the configured rate, the default, or
        None (no client-side pace) when the budget is lifted for tests."""
        if self.lift_rate_budget:
            return None
        return self.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE

    @property
    def host(self) -> str:
        """The site's host name, e.g. ``acme-test.chargebee.com``."""
        if self.base_url is not None:
            return urlsplit(self.base_url).hostname or ""
        suffix = "-test" if self.test_site else ""
        return f"{self.site}{suffix}.{self.environment}"

    @property
    def budget_key(self) -> str:
        """What names the site's shared budget: the site and where its API is served."""
        server = urlsplit(self.server_url()).netloc
        return f"{self.site or ''}@{server}".lower()

    def server_url(self, api_version: ApiVersion = "v2") -> str:
        if api_version not in ("v1", "v2"):
            raise ChargebeeValidationError("api_version", f"{api_version!r} is not 'v1' or 'v2'")
        if self.base_url is not None:
            return f"{self.base_url.rstrip('/')}/api/{api_version}"
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.protocol}://{self.host}{port}/api/{api_version}"
