"""The HTML export in a real browser: headless Chromium loads it, logs no error and draws a page.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`), with the
standard library only. In CI (`CI` set) a missing Chromium is a failure, not a skip: `.ci/run`
installs Debian's `chromium` package when it is absent.
"""

import base64
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import pytest

from jacobian_bp.render import html
from jacobian_bp.solution import solve
from jacobian_bp.walkthrough import bundled_names, load

CHROMIUM = Path("/usr/bin/chromium")
# Without these, headless Chromium waits on a network that this machine does not have.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-pipe"]
TIMEOUT = 60.0


class Browser:
    """Headless Chromium on a DevTools pipe: commands go to its fd 3, answers and events come from fd 4."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="jacobian-bp-chromium-")
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()

        def use_pipes():
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        self.process = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=use_pipes)
        os.close(commands_read)
        os.close(answers_write)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def page(self, method: str, params: dict | None = None) -> dict:
        return self.send(method, params, self.session)

    def wait_for(self, method: str) -> dict:
        """The first event `method` (already received or still to come)."""
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._receive())

    def _receive(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.answers], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self.answers, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def evaluate(self, expression: str):
        answer = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"])
        return answer["result"]["value"]

    def errors(self) -> list[str]:
        """Every console error, uncaught exception and error logged by the browser (e.g. a blocked load)."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def close(self):
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.answers)
        shutil.rmtree(self.profile, ignore_errors=True)


def open_page(browser: Browser, path: Path, width: int = 1280, height: int = 900):
    """Load the file at a desktop window size and wait until it has loaded; events start afresh."""
    browser.events.clear()
    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        browser.page(domain)
    browser.page("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    browser.page("Page.navigate", {"url": path.resolve().as_uri()})
    browser.wait_for("Page.loadEventFired")


def screenshot(browser: Browser, clip: dict | None = None, scale: float = 1.0) -> bytes:
    """A PNG of the viewport, or of `clip` (page coordinates) anywhere on the page, shrunk by `scale`."""
    if clip is None:
        clip = browser.evaluate("({x: scrollX, y: scrollY, width: innerWidth, height: innerHeight})")
    params = {"format": "png", "clip": {**clip, "scale": scale}, "captureBeyondViewport": True}
    return base64.b64decode(browser.page("Page.captureScreenshot", params)["data"])


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the raw RGB(A) rows of an 8-bit PNG, unfiltered (enough to judge a screenshot)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def ink_fraction(data: bytes) -> float:
    """The share of pixels that differ clearly from the most common colour (the page's background)."""
    width, height, rows = png_pixels(data)
    channels = len(rows[0]) // width
    pixels = [row[x:x + 3] for row in rows[::2] for x in range(0, len(row), channels * 2)]
    background = max(set(pixels), key=pixels.count)
    inked = sum(1 for pixel in pixels if max(abs(a - b) for a, b in zip(pixel, background, strict=True)) > 40)
    return inked / len(pixels)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (Debian package: chromium)")
    started = Browser()
    yield started
    started.close()


@pytest.fixture(scope="module")
def article_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "article.html"
    path.write_text(html.render(solve(load("article")), decimals=4, symbolic=True), encoding="utf-8")
    return path


def test_the_article_page_loads_without_errors_and_is_not_blank(browser, article_page):
    open_page(browser, article_page)
    assert browser.errors() == []
    assert 0.02 < ink_fraction(screenshot(browser, scale=0.5)) < 0.6


def test_mathml_is_laid_out_as_math(browser, article_page):
    open_page(browser, article_page)
    layout = browser.evaluate("""(() => {
        const fractions = [...document.querySelectorAll('mfrac')];
        const tables = [...document.querySelectorAll('.matrix')];
        return {
          fractions: fractions.length,
          stackedFractions: fractions.filter(f => f.children[0].getBoundingClientRect().bottom
                                                  <= f.children[1].getBoundingClientRect().top + 1).length,
          mathDisplay: getComputedStyle(document.querySelector('math')).display,
          tables: tables.length,
          emptyTables: tables.filter(t => t.getBoundingClientRect().width < 10).length,
          svgs: document.querySelectorAll('svg').length,
          marked: document.querySelectorAll('.graph .marked').length,
          pageWidth: document.documentElement.scrollWidth,
          viewportWidth: window.innerWidth,
        };
    })()""")
    assert layout["fractions"] > 50 and layout["stackedFractions"] == layout["fractions"], layout
    assert "math" in layout["mathDisplay"], layout
    assert layout["tables"] > 50 and layout["emptyTables"] == 0, layout
    assert layout["svgs"] > 20 and layout["marked"] > 10, layout
    assert layout["pageWidth"] <= layout["viewportWidth"], "the page scrolls sideways"


def test_a_backward_step_is_drawn(browser, article_page):
    open_page(browser, article_page)
    box = browser.evaluate("""(() => {
        const r = document.querySelectorAll('section.backward')[5].getBoundingClientRect();
        return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: Math.min(r.height, 1400)};
    })()""")
    assert box["height"] > 300
    assert 0.02 < ink_fraction(screenshot(browser, box, scale=0.5)) < 0.6


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_walkthrough_loads_without_errors(browser, name, tmp_path):
    path = tmp_path / f"{name}.html"
    path.write_text(html.render(solve(load(name)), decimals=4, symbolic=False), encoding="utf-8")
    open_page(browser, path)
    assert browser.errors() == []


@pytest.mark.parametrize("name", ["article", "softmax", "xor"])
def test_at_phone_width_wide_formulas_and_matrices_scroll_in_their_own_box_never_the_page(browser, name, tmp_path):
    path = tmp_path / f"{name}.html"
    path.write_text(html.render(solve(load(name)), decimals=4, symbolic=True), encoding="utf-8")
    open_page(browser, path, width=400)
    layout = browser.evaluate("""(() => {
        const boxes = [...document.querySelectorAll('.line, .formula')];
        return {
          pageWidth: document.documentElement.scrollWidth,
          viewportWidth: document.documentElement.clientWidth,
          scrolling: boxes.filter(box => box.scrollWidth > box.clientWidth + 1).length,
          wider: boxes.filter(box => box.getBoundingClientRect().right > innerWidth + 1).length,
        };
    })()""")
    assert layout["pageWidth"] <= layout["viewportWidth"] == 400, layout
    assert layout["scrolling"] > 0 and layout["wider"] == 0, layout
