"""Connection settings and the choice of server.

The server is ``{protocol}://{site}[-test].{environment}[:{port}]/api/{version}``,
or ``{base_url}/api/{version}`` when a base URL overrides scheme, host and port
(for a proxy or the emulator).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.invoices import ApiVersion

DEFAULT_ENVIRONMENT = "chargebee.com"
_SITE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
_API_KEY = re.compile(r"[A-Za-z0-9_\-:.]{8,200}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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

    def __post_init__(self) -> None:
        self._check_api_key()
        self._check_numbers()
        if self.site and (not _SITE.fullmatch(self.site) or self.site.lower().endswith("-test")):
            raise ChargebeeValidationError(
                "site",
                f"{self.site!r} is not a site name: letters, digits and '-' only, "
                "without '-test' (set test_site instead)",
            )
        if not _DOMAIN.fullmatch(self.environment):
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
        if not _API_KEY.fullmatch(self.api_key):
            raise ChargebeeValidationError(
                "api_key",
                "has characters or a length an API key cannot have "
                "(spaces, control characters or quotes?)",
            )

    def _check_numbers(self) -> None:
        if self.port is not None and not (_is_integer(self.port) and 0 < self.port < 65536):
            raise ChargebeeValidationError("port", f"{self.port!r} is not a port from 1 to 65535")
        if not _is_number(self.timeout) or not 0 < self.timeout <= 600:
            raise ChargebeeValidationError("timeout", f"{self.timeout!r} must be within (0, 600]")
        if not _is_integer(self.max_retries) or not 0 <= self.max_retries <= 20:
            raise ChargebeeValidationError(
                "max_retries", f"{self.max_retries!r} must be from 0 to 20"
            )
        if self.requests_per_minute is not None and not (
            _is_number(self.requests_per_minute) and 0 < self.requests_per_minute <= 100_000
        ):
            raise ChargebeeValidationError(
                "requests_per_minute", f"{self.requests_per_minute!r} must be within (0, 100000]"
            )

    def _check_base_url(self) -> None:
        assert self.base_url is not None
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ChargebeeValidationError(
                "base_url", f"{self.base_url!r} must be an absolute http(s) URL with a host"
            )
        try:
            parts.port  # noqa: B018  (parsing the port is the check)
        except ValueError:
            raise ChargebeeValidationError(
                "base_url", f"{self.base_url!r} has a port that is not a number from 1 to 65535"
            ) from None
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ChargebeeValidationError(
                "base_url", "must not carry credentials, a query or a fragment"
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
    def host(self) -> str:
        """The site's host name, e.g. ``acme-test.chargebee.com``."""
        if self.base_url is not None:
            return urlsplit(self.base_url).hostname or ""
        suffix = "-test" if self.test_site else ""
        return f"{self.site}{suffix}.{self.environment}"

    def server_url(self, api_version: ApiVersion = "v2") -> str:
        if api_version not in ("v1", "v2"):
            raise ChargebeeValidationError("api_version", f"{api_version!r} is not 'v1' or 'v2'")
        if self.base_url is not None:
            return f"{self.base_url.rstrip('/')}/api/{api_version}"
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.protocol}://{self.host}{port}/api/{api_version}"
