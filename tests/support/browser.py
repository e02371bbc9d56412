"""A minimal headless-Chromium driver over the DevTools protocol, for the publishing report tests."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]

# The charts the reader sees: each chart is drawn twice (data-layout wide and narrow) and the
# style sheet displays one of the two for the screen width (print: wide).
SHOWN_CHARTS = """
Array.from(document.querySelectorAll('svg[data-chart]')).filter(
  svg => svg.getClientRects().length > 0)
"""

# Per chart shown: how many marks have a non-empty box after layout, its size, role and title.
CHART_PROBE = f"""
JSON.stringify({SHOWN_CHARTS}.map(svg => {{
  let drawn = 0;
  svg.querySelectorAll('rect, path, line, circle, polyline').forEach(mark => {{
    const box = mark.getBBox();
    if (box.width > 0 || box.height > 0) drawn++;
  }});
  const rect = svg.getBoundingClientRect();
  const title = svg.querySelector(':scope > title');
  return {{name: svg.dataset.chart, layout: svg.dataset.layout, drawn: drawn, width: rect.width,
          height: rect.height, role: svg.getAttribute('role'),
          title: title ? title.textContent : ''}};
}}))
"""

# Per figure with a chart: the title above it (figcaption h3) and every text drawn in the chart
# shown (a label's own text, without the <title> tooltip inside it).
FIGURE_PROBE = f"""
JSON.stringify(Array.from(new Set({SHOWN_CHARTS}.map(svg => svg.closest('figure')))).filter(
  figure => figure).map(figure => {{
  const svg = Array.from(figure.querySelectorAll('svg[data-chart]')).find(
    svg => svg.getClientRects().length > 0);
  return {{
    name: svg.dataset.chart,
    title: (figure.querySelector('figcaption h3') || {{}}).textContent || '',
    texts: Array.from(svg.querySelectorAll('text')).map(t => Array.from(
      t.childNodes).filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join(''))
  }};
}}))
"""

# Per text drawn in a chart shown: its font size on screen (the SVG font size times the scale
# of the chart's viewBox and any rotation), its box (getBoundingClientRect) and whether that
# box lies inside the chart's box (1 px tolerance).
CHART_TEXT_PROBE = f"""
JSON.stringify({SHOWN_CHARTS}.flatMap(svg => {{
  const outer = svg.getBoundingClientRect();
  return Array.from(svg.querySelectorAll('text')).map(t => {{
    const box = t.getBoundingClientRect();
    const m = t.getScreenCTM();
    const scale = Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    return {{
      chart: svg.dataset.chart, layout: svg.dataset.layout,
      text: Array.from(t.childNodes).filter(n => n.nodeName !== 'title').map(
        n => n.textContent).join(' '),
      size: parseFloat(getComputedStyle(t).fontSize) * scale,
      box: [box.left, box.top, box.width, box.height],
      inside: box.left >= outer.left - 1 && box.right <= outer.right + 1
        && box.top >= outer.top - 1 && box.bottom <= outer.bottom + 1
    }};
  }});
}}))
"""


def available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None


class Page:
    """One page in a fresh headless Chromium; collects console errors and network requests."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        from websockets.sync.client import connect

        self.profile = Path(tempfile.mkdtemp(prefix="publish-chromium-"))
        self.log = (self.profile / "stderr.log").open("wb")
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self._connection = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=10)
        self.socket = self._connection.__enter__()
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def call(
        self, method: str, params: dict | None = None, *, session: bool = False, timeout: float = 30
    ) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        if any(e.get("method") == event for e in self.events):
            return
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            self.events.append(reply)
            if reply.get("method") == event:
                return

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def resize(self, width: int, height: int = 900) -> None:
        """A new viewport size (CSS px); the page lays itself out again."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def figures(self) -> list[dict]:
        return json.loads(self.evaluate(FIGURE_PROBE))

    def chart_texts(self) -> list[dict]:
        """Every text of the charts shown: chart, layout, text, size (CSS px), box, inside."""
        return json.loads(self.evaluate(CHART_TEXT_PROBE))

    def print_pdf(self, path: Path) -> Path:
        """Print as Chromium's print dialog would, with the page's own @page size and margins
        (A4), backgrounds on; no header or footer lines."""
        result = self.call(
            "Page.printToPDF",
            {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False},
            session=True,
            timeout=60,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(result["data"]))
        return path

    def charts(self) -> list[dict]:
        return json.loads(self.evaluate(CHART_PROBE))

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(arg.get("value")) for arg in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return errors

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path, *, top: int = 0, height: int | None = None) -> Path:
        metrics = self.call("Page.getLayoutMetrics", session=True)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width = int(size["width"])
        height = height or int(size["height"]) - top
        shot = self.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": top, "width": width, "height": height, "scale": 1},
            },
            session=True,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def page_height(self) -> int:
        metrics = self.call("Page.getLayoutMetrics", session=True)
        return int((metrics.get("cssContentSize") or metrics["contentSize"])["height"])

    def close(self) -> None:
        try:
            if getattr(self, "socket", None) is not None:
                self._connection.__exit__(None, None, None)
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
