"""The add-connection form of the live Airflow UI, rendered by headless Chromium.

It proves that Airflow builds the Chargebee form from ``get_provider_info`` (labels,
placeholders, the password field, hidden built-in fields) and takes the screenshots
that docs/connection.md shows: into a temporary folder, so that a test run leaves the
checkout as it was; ``scripts/refresh-screenshots.sh`` writes them to docs/images.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from airflow_provider_cb.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from tests.e2e.browser import CHROMIUM, Page, chromium_page
from tests.e2e.live import LiveAirflow

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason=f"{CHROMIUM} is missing (Debian's chromium; .ci/run installs it)",
    ),
]

SCREENSHOT_DIR = "CHARGEBEE_SCREENSHOT_DIR"
"""Where the screenshots go when set (scripts/refresh-screenshots.sh sets docs/images)."""
DIALOG = "document.querySelector('[role=dialog]')"
LABELS = f"[...{DIALOG}.querySelectorAll('label')].map(l => l.textContent.replace('*', '').trim())"
INPUTS = (
    f"Object.fromEntries([...{DIALOG}.querySelectorAll('input[name]')]"
    ".map(i => [i.name, {type: i.type, placeholder: i.placeholder}]))"
)


def button(text: str) -> str:
    return f"[...document.querySelectorAll('button')].find(b => b.textContent.trim() === {text!r})"


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def open_chargebee_form(page: Page, base_url: str) -> None:
    """Log in (all users are admins), open Add Connection and choose the Chargebee type."""
    page.call("Page.enable")
    page.call("Page.navigate", url=f"{base_url}/auth/token/login?next={base_url}/connections")
    page.wait_for("the Add Connection button", button("Add Connection"))
    page.click(button("Add Connection"))
    selector = f"{DIALOG}.querySelector('input[role=combobox]')"
    page.wait_for("the connection type selector", selector)
    page.type_into(selector, "Chargebee")
    page.wait_for(
        "the Chargebee option",
        "[...document.querySelectorAll('[role=option]')].some(o => o.textContent === 'Chargebee')",
    )
    page.press_enter()
    page.wait_for("the Chargebee fields", f"{LABELS}.includes('Site')")


def test_add_connection_form_shows_the_chargebee_fields(live: LiveAirflow, tmp_path: Path) -> None:
    images = Path(os.environ.get(SCREENSHOT_DIR) or tmp_path)
    images.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        open_chargebee_form(page, live.base_url)
        labels = set(page.evaluate(LABELS))
        inputs = page.evaluate(INPUTS)
        page.type_into(f"{DIALOG}.querySelector('input[name=connection_id]')", "chargebee_default")
        page.type_into(f"{DIALOG}.querySelector('input[name=host]')", "acme")
        page.screenshot(DIALOG, images / "connection-form.png")
        page.click(button("Extra Fields"))
        page.wait_for(
            "the extra fields to open",
            f"{button('Extra Fields')}.getAttribute('aria-expanded') === 'true'",
        )
        page.screenshot(DIALOG, images / "connection-form-extra-fields.png")

    assert {"Description", "Site", "API key", "Port"} <= labels
    assert {field["label"] for field in CONN_FIELDS.values()} <= labels
    assert not {"Login", "Schema", "Host", "Password"} & labels
    assert inputs["password"]["type"] == "password"
    placeholders = UI_FIELD_BEHAVIOUR["placeholders"]
    assert {name: inputs[name]["placeholder"] for name in placeholders} == placeholders
    assert {f"element_{name}" for name in CONN_FIELDS} <= set(inputs)
    for image in ("connection-form.png", "connection-form-extra-fields.png"):
        width, height = png_size(images / image)
        assert width > 600 and height > 600, f"{image} is {width}x{height}"
