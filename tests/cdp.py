"""A real headless Chromium driven over the DevTools protocol: load a page, wait for what a person
would see, read its text, click, take screenshots. For pages that need interaction or a running
app (the Dagster UI); `tests/browser.py` covers static HTML files."""
from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--no-default-browser-check", "--remote-debugging-port=0", "--remote-allow-origins=*")


class Page:
    """One browser (fresh profile, so every visit is a first visit) with one tab."""

    def __init__(self, chromium: str, width: int = 1400, height: int = 1000):
        self._profile = tempfile.TemporaryDirectory(prefix="ticklake-cdp-", ignore_cleanup_errors=True)
        self._proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={self._profile.name}",
                                       f"--window-size={width},{height}", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self._stack = contextlib.ExitStack()
        self._ws = self._stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=64 << 20, open_timeout=20))
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _port(self) -> int:
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self._proc.stderr.readline()
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                return int(m.group(1))
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def send(self, method: str, **params) -> dict:
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv(timeout=60))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def text(self) -> str:
        return self.eval("document.body ? document.body.innerText : ''") or ""

    def wait_for(self, *texts: str | re.Pattern, timeout: float = 60) -> str:
        """Wait until the page's visible text contains every one of `texts` (the page renders in
        pieces); returns the text."""
        deadline = time.time() + timeout
        body = ""
        while time.time() < deadline:
            body = self.text()
            if all(t.search(body) if isinstance(t, re.Pattern) else t in body for t in texts):
                return body
            time.sleep(0.5)
        raise AssertionError(f"{texts!r} not on the page after {timeout}s; it shows:\n{body[:3000]}")

    def click_text(self, text: str) -> None:
        """Click the innermost visible element whose text is exactly `text`."""
        found = self.eval(f"""(() => {{
            const want = {json.dumps(text)};
            const all = [...document.querySelectorAll('a,button,span,div,td,p')]
              .filter(e => e.innerText && e.innerText.trim() === want && e.offsetParent !== null);
            const el = all.find(e => ![...e.children].some(c => c.innerText && c.innerText.trim() === want)) || all[0];
            if (!el) return false;
            el.scrollIntoView(); el.click(); return true; }})()""")
        if not found:
            raise AssertionError(f"nothing to click named {text!r}")

    def click_in_row(self, row_text: str, text: str) -> None:
        """Click `text` inside the table row that starts with `row_text` (a metadata entry's value)."""
        found = self.eval(f"""(() => {{
            const row = [...document.querySelectorAll('tr')].find(r => r.innerText.trim().startsWith({json.dumps(row_text)}));
            if (!row) return false;
            const el = [...row.querySelectorAll('*')].reverse().find(e => e.innerText && e.innerText.trim() === {json.dumps(text)});
            if (!el) return false;
            el.click(); return true; }})()""")
        if not found:
            raise AssertionError(f"no {text!r} in a row {row_text!r}")

    def images(self) -> list[dict]:
        """Every <img> shown: its src prefix and natural size (0 x 0 when it did not load)."""
        return self.eval("""[...document.images].map(i => ({src: i.src.slice(0, 40), alt: i.alt,
                               width: i.naturalWidth, height: i.naturalHeight}))""")

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._profile.cleanup()

    def __enter__(self) -> "Page":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
