"""Keeping the API key out of anything taken from an answer.

A gateway or debugging proxy may echo request headers in its error page, and not
always verbatim: url-encoded, base64 without padding, url-safe base64, hex dumps in
either case, wrapped at 76 columns or split by spaces. Every such form of a secret
(the API key, the rate limit store's password) is cut out before a message, record
or log line is built from an answer, and handed to Airflow's secrets masker.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

import httpx

REDACTED = "[redacted]"
MAX_BODY_EXCERPT = 200

# What a server may put between two characters of an echoed value: line wraps and
# spaces, raw, percent-encoded or backslash-escaped.
_GAP = r"(?:\s|%0[9aAdD]|%20|\\[rnt])*"
_PADDING = r"(?:=|%3[dD])*"


def _base64_forms(raw: bytes) -> set[str]:
    """``raw`` in standard and url-safe base64, unpadded (padding is matched separately)."""
    return {
        base64.b64encode(raw).decode("ascii").rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    }


def _embedded_base64_cores(raw: bytes) -> set[str]:
    """The base64 characters ``raw`` always encodes to when it sits inside longer data.

    Base64 works on three bytes at a time, so a value encoded after one or two other
    bytes gives different characters; only those of the groups it fills alone are
    fixed, and these are what a longer encoded header would contain.
    """
    cores: set[str] = set()
    for shift in (1, 2):
        whole_groups = (shift + len(raw)) // 3
        for encoded in _base64_forms(b"\0" * shift + raw):
            core = encoded[4 : 4 * whole_groups]
            if len(core) >= 8:
                cores.add(core)
    return cores


def _hex_forms(forms: set[str]) -> set[str]:
    """Each form as a hex dump, lower and upper case.

    Hex encodes byte by byte, so the dump of a value sits unchanged inside the dump
    of any longer text holding it (a whole header, say).
    """
    dumps = {form.encode("utf-8").hex() for form in forms}
    return dumps | {dump.upper() for dump in dumps}


def secret_forms(secret: str) -> list[str]:
    """The secret and every encoding of it a request carries or a server may echo, longest first.

    :func:`redact` also matches these url-encoded and split by whitespace;
    :func:`masker_forms` adds the url-encoded ones for Airflow's masker.
    """
    if not secret:
        return []
    forms = {secret}
    raw = secret.encode("utf-8")
    for value in (raw + b":", raw):
        forms |= _base64_forms(value)
        forms |= {form + "=" * (-len(form) % 4) for form in _base64_forms(value)}
    forms |= _embedded_base64_cores(raw)
    forms |= _hex_forms(forms)
    return sorted(forms, key=len, reverse=True)


def masker_forms(secret: str) -> list[str]:
    """What Airflow's secrets masker must know to hide ``secret`` in task logs and XCom.

    The masker matches literal strings only, so the url-encoded forms are listed too.
    """
    forms = set(secret_forms(secret))
    forms |= {quote(form, safe="") for form in forms}
    return sorted(forms, key=len, reverse=True)


def credentials_of(request: httpx.Request) -> list[str]:
    """The API key behind the request's Basic Authorization header, if it has one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return [header] if header else []
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return [token.strip()]
    user, _, password = decoded.partition(":")
    return [part for part in (user, password) if len(part) >= 4]


def _char_pattern(char: str) -> str:
    """One character, raw or percent-encoded (either case of hex digits)."""
    encoded = "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return f"(?:{re.escape(char)}|{re.escape(encoded)}|{re.escape(encoded.lower())})"


def _echo_pattern(form: str) -> str:
    body = _GAP.join(_char_pattern(char) for char in form)
    return body + _PADDING if form.rstrip("=") == form else body


@functools.lru_cache(maxsize=64)
def _patterns(secrets: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    forms: set[str] = set()
    for secret in secrets:
        forms.update(secret_forms(secret))
    ordered = sorted(forms, key=len, reverse=True)
    return tuple(re.compile(_echo_pattern(form)) for form in ordered)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every echoed form of each secret replaced by ``[redacted]``."""
    for pattern in _patterns(tuple(sorted(set(secrets)))):
        text = pattern.sub(REDACTED, text)
    return text


def redact_chain(error: BaseException, secrets: Iterable[str]) -> None:
    """Cut the secrets out of ``error``'s text and out of every exception chained to it.

    An error raised ``from`` another keeps it as its cause, and a traceback prints the
    cause's text too: no form of the key may ride along there.
    """
    secrets = tuple(secrets)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(
            redact(arg, secrets) if isinstance(arg, str) else arg for arg in current.args
        )
        current = current.__cause__ or current.__context__


def body_excerpt(response: httpx.Response, secrets: Sequence[str] = ()) -> str:
    """A short, redacted quote of a body that is not Chargebee's JSON."""
    # Redact before cutting short, so no part of a secret survives at the cut.
    text = response.content[: MAX_BODY_EXCERPT * 50].decode("utf-8", "replace")
    text = " ".join(redact(text, secrets).split())[:MAX_BODY_EXCERPT]
    content_type = response.headers.get("content-type", "unknown content type")
    if not text:
        return f"empty body ({content_type})"
    return f"non-JSON body ({content_type}): {text!r}"
