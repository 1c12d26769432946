"""Headless Chromium driven through the Chrome DevTools Protocol, with no extra dependency.

Airflow 3's UI is a React app: the add-connection form only exists after a click on
"Add Connection" and a choice in the connection-type selector, so a DOM dump of a URL
is not enough. ``websockets`` comes with Airflow (through uvicorn[standard]).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)


class Page:
    """One browser tab: navigate, run JavaScript, click and type as a user would."""

    def __init__(self, socket: ClientConnection, session: str | None = None) -> None:
        self._socket = socket
        self._session = session
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if self._session is not None:
            message["sessionId"] = self._session
        self._socket.send(json.dumps(message))
        while True:
            answer = json.loads(self._socket.recv(timeout=30))
            if answer.get("id") == number:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer["result"])

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, what: str, expression: str, timeout: float = 30.0) -> None:
        """Until the expression is truthy (it may be an element, which is not returned)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.evaluate(f"Boolean({expression})"):
                return
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise TimeoutError(f"gave up waiting for {what}; page text: {text[:2000]!r}")
            time.sleep(0.25)

    def click(self, element: str) -> None:
        """Press and release the mouse on an element (a JS expression), as pointer events."""
        box = self.evaluate(
            f"(() => {{ const e = {element}; e.scrollIntoView({{block: 'center'}});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )

    def type_into(self, element: str, text: str) -> None:
        self.evaluate(f"({element}).focus()")
        self.call("Input.insertText", text=text)

    def press_enter(self) -> None:
        keys = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **keys)
        self.call("Input.dispatchKeyEvent", type="keyUp", **keys)

    def screenshot(self, element: str, path: Path) -> None:
        """A PNG of one element, however tall, once it has stopped changing size."""
        height = None
        while height != (height := self.evaluate(f"({element}).getBoundingClientRect().height")):
            time.sleep(0.3)
        box = self.evaluate(
            f"(() => {{ const r = ({element}).getBoundingClientRect();"
            " return {x: r.x, y: r.y, width: r.width, height: r.height}; })()"
        )
        shot = self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={**box, "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))


def _devtools_address(port_file: Path, process: subprocess.Popen[bytes]) -> tuple[str, str]:
    """Chromium writes its DevTools port and browser path here once it listens."""
    deadline = time.monotonic() + 30
    while True:
        lines = port_file.read_text().split() if port_file.exists() else []
        if len(lines) >= 2:
            return lines[0], lines[1]
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("Chromium did not open its DevTools port")
        time.sleep(0.1)


@contextmanager
def chromium_page(width: int = 1280, height: int = 2400) -> Iterator[Page]:
    """A headless Chromium with an empty profile, killed with its children afterwards."""
    with tempfile.TemporaryDirectory(prefix="cb-chromium-") as profile:
        process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port, path = _devtools_address(Path(profile) / "DevToolsActivePort", process)
            with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
                browser = Page(socket)
                target = browser.call("Target.createTarget", url="about:blank")["targetId"]
                session = browser.call("Target.attachToTarget", targetId=target, flatten=True)
                page = Page(socket, session["sessionId"])
                page.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=height,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                yield page
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
