"""Redaction of the API key in the forms a server may echo it."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import httpx
import pytest

from airflow_provider_cb.chargebee_api.redaction import (
    REDACTED,
    body_excerpt,
    credentials_of,
    redact,
    secret_forms,
)

KEY = "test_R3dactMe_0123456789abcdef"
TOKEN = base64.b64encode(f"{KEY}:".encode()).decode()


def test_secret_forms_cover_the_token_and_the_key_alone() -> None:
    forms = secret_forms(KEY)
    assert KEY in forms
    assert TOKEN in forms
    assert TOKEN.rstrip("=") in forms
    assert base64.b64encode(KEY.encode()).decode() in forms
    assert forms == sorted(forms, key=len, reverse=True)


def test_credentials_of_reads_the_key_from_a_basic_header() -> None:
    request = httpx.Request("GET", "https://x.test/", headers={"Authorization": f"Basic {TOKEN}"})
    assert credentials_of(request) == [KEY]
    assert credentials_of(httpx.Request("GET", "https://x.test/")) == []


@pytest.mark.parametrize(
    "echo",
    [
        f"Basic {TOKEN}",
        quote_plus(f"Basic {TOKEN}"),
        quote(TOKEN, safe="").replace("%3D", "%3d"),
        "\r\n".join(TOKEN[i : i + 6] for i in range(0, len(TOKEN), 6)),
        TOKEN.replace("+", "-").replace("/", "_").rstrip("="),
        KEY[:10] + " " + KEY[10:],
        "%20".join(KEY[i : i + 7] for i in range(0, len(KEY), 7)),
        base64.b64encode(b"xx" + KEY.encode()).decode(),
    ],
)
def test_every_echoed_form_is_redacted(echo: str) -> None:
    text = redact(f"header was <{echo}>", [KEY])
    assert REDACTED in text
    assert KEY[5:15] not in text
    assert TOKEN[4:16] not in text.replace(" ", "")


def test_text_without_the_key_is_left_alone() -> None:
    text = "Bad gateway: upstream acme.chargebee.com timed out after 30s"
    assert redact(text, [KEY]) == text


def test_body_excerpt_redacts_before_cutting_short() -> None:
    body = (" " * 1990 + KEY).encode()
    response = httpx.Response(502, content=body, headers={"content-type": "text/html"})
    excerpt = body_excerpt(response, [KEY])
    assert KEY[:8] not in excerpt
    assert REDACTED in excerpt


@pytest.mark.parametrize(
    "dump",
    [
        KEY.encode().hex(),
        KEY.encode().hex().upper(),
        TOKEN.encode().hex(),
        f"Basic {TOKEN}".encode().hex().upper(),
        f"Authorization: Basic {TOKEN}".encode().hex(),
    ],
    ids=["key_lower", "key_upper", "token_lower", "header_upper", "longer_header_lower"],
)
def test_hex_dumps_of_the_key_are_redacted(dump: str) -> None:
    """A proxy's hex dump of the header leaked the key (raw and Base64 were already cut)."""
    text = redact(f"wire: {dump}", [KEY])
    assert REDACTED in text
    assert KEY.encode().hex() not in text.lower()
    assert TOKEN.encode().hex()[8:40] not in text.lower()


def test_the_masker_gets_the_url_encoded_forms_too() -> None:
    from airflow_provider_cb.chargebee_api.redaction import masker_forms

    password = "p/ss+word=1"
    forms = masker_forms(password)
    assert {password, quote(password, safe=""), password.encode().hex().upper()} <= set(forms)
