"""The HTML report in a real browser: headless Chromium loads it from disk via file://.

How: Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe``
(JSON messages separated by NUL bytes on file descriptors 3 and 4; standard library only, no
port, no websocket). The page is opened in a fresh profile with networking sandboxed
(``--host-resolver-rules="MAP * ~NOTFOUND"``), and the test records console messages,
uncaught exceptions, log entries and every network request the page makes. It checks:
no console errors, every image decoded with a non-zero natural size, no request other than
the ``file://`` page itself (``data:`` images are not network requests), the SIMULATED banner
and every claim present, and no horizontal overflow at phone width (375 px). With the real
figures (drawn from tiny inline tables), it measures the in-figure text as rendered: the
smallest font of each PNG (points, stored by ``save_figure``) × its dpi / 72 × rendered
width / natural width must be at least 10 CSS px, and on a desktop the figure must fit the
text column (no sideways scrolling). Screenshots are
saved as ``reports/report_screenshot.png`` (desktop) and ``reports/report_screenshot_mobile.png``
(git-ignored, like everything under reports/).

The test is skipped only when no Chromium binary exists at all.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from test_report import CLAIMS, build, make_figures

from pollwaves.report import html as report

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--remote-debugging-pipe"]  # fmt: skip
TIMEOUT = 120.0


class DevTools:
    """Minimal DevTools-protocol client over --remote-debugging-pipe."""

    def __init__(self, binary: str, profile: Path):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def child_fds() -> None:  # Chromium reads commands on fd 3, writes replies on fd 4
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.log = open(profile.parent / "chromium.log", "w+b")
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=child_fds,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id, self.events, self.session = b"", 0, [], None

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe: " + self._stderr())
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def _stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def send(self, method: str, params: dict | None = None, *, session: bool = True) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        while True:
            ev = self._read(deadline)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def evaluate(self, expression: str):
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True})  # fmt: skip
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except Exception:  # closing is best effort
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self.log.close()


PAGE_CHECK = """(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return {
    images: imgs.map(i => ({complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
                            alt: i.alt, src: i.src.slice(0, 22),
                            rw: i.getBoundingClientRect().width,
                            box: (i.closest('figure') || i).getBoundingClientRect().width})),
    banner: (document.querySelector('.banner.simulated') || {}).innerText || '',
    bannerTop: document.querySelector('.banner.simulated')?.getBoundingClientRect().top,
    claims: [...document.querySelectorAll('#ledger tr[data-claim]')].map(r => r.dataset.claim),
    verdicts: [...document.querySelectorAll('#ledger td.verdict')].map(t => t.innerText.trim()),
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    resources: performance.getEntriesByType('resource').map(e => e.name),
  };
})()"""


def _screenshot(dt: DevTools, path: Path, width: int, height: int, mobile: bool) -> dict:
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    dt.send("Emulation.setDeviceMetricsOverride", metrics)
    dt.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    state = dt.evaluate(PAGE_CHECK)
    if mobile:  # on a phone, show the claims ledger (rendered as cards)
        dt.evaluate("document.getElementById('claims')?.scrollIntoView()")
    shot = dt.send("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))
    return state


def load(page: Path, profile: Path, shots: Path | None = None) -> tuple[list, list[dict]]:
    """Open ``page`` from disk; return the DevTools events and the page state (desktop, phone)."""
    dt = DevTools(CHROMIUM, profile)
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attach = {"targetId": target["targetId"], "flatten": True}
        dt.session = dt.send("Target.attachToTarget", attach, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.send(f"{domain}.enable")
        dt.send("Page.navigate", {"url": page.as_uri()})
        dt.wait_for("Page.loadEventFired")
        tmp = profile.parent
        states = [
            _screenshot(dt, (shots or tmp) / "report_screenshot.png", 1280, 1600, False),
            _screenshot(dt, (shots or tmp) / "report_screenshot_mobile.png", 375, 1400, True),
        ]
        dt.evaluate("new Promise(r => setTimeout(r, 200))")  # late console messages
        return list(dt.events), states
    finally:
        dt.close()


def console_errors(events: list) -> list:
    errors = [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    errors += [e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"
               and e["params"].get("type") in ("error", "assert")]  # fmt: skip
    errors += [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded"
               and e["params"]["entry"].get("level") == "error"]  # fmt: skip
    return errors


def requests(events: list) -> list[str]:
    return [e["params"]["request"]["url"] for e in events
            if e.get("method") == "Network.requestWillBeSent"]  # fmt: skip


NO_CHROMIUM = "no chromium binary on PATH (apt-get install chromium)"


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_report_in_headless_chromium(tmp_path):
    html, _ = build(make_figures(tmp_path))
    page = tmp_path / "site" / "public_demand.html"
    report.write_report(html, page)
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    events, (desktop, phone) = load(page, tmp_path / "profile", out)

    assert console_errors(events) == []
    urls = requests(events)
    # the page itself, then its embedded data: images (decoded locally, no network)
    assert urls[0] == page.as_uri()
    others = [u for u in urls[1:] if not u.startswith("data:image/png;base64,")]
    assert others == [], others
    failed = [e["params"] for e in events if e.get("method") == "Network.loadingFailed"]
    assert failed == []
    for state in (desktop, phone):
        assert state["resources"] == []  # nothing fetched besides the document
        assert len(state["images"]) == 6
        for img in state["images"]:
            assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
            assert img["src"].startswith("data:image/png") and len(img["alt"]) > 40
        assert state["banner"].startswith("SIMULATED DATA.")
        assert state["bannerTop"] == 0
        assert state["claims"] == CLAIMS
        assert len(state["verdicts"]) == 2 * len(CLAIMS)
        assert all(
            v.splitlines()[0].split(" ", 1)[1] in ("Supported", "Not supported", "Inconclusive")
            for v in state["verdicts"]
        ), state["verdicts"]
    assert phone["innerWidth"] == 375
    assert phone["scrollWidth"] <= 375, "page overflows horizontally at phone width"
    for name in ("report_screenshot.png", "report_screenshot_mobile.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_checks_catch_errors_external_requests_and_broken_images(tmp_path):
    """Negative control: the same harness on a page that breaks every rule."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><div class="banner simulated">x</div>'
        '<img src="https://example.com/x.png" alt="external">'
        '<img src="data:image/png;base64,AAAA" alt="broken">'
        "<script>console.error('boom'); undefined_function();</script></body></html>",
        encoding="utf-8",
    )
    events, (desktop, _) = load(page, tmp_path / "profile")
    messages = json.dumps(console_errors(events))
    assert "boom" in messages and "undefined_function" in messages
    assert "https://example.com/x.png" in requests(events)
    assert [img["w"] for img in desktop["images"]] == [0, 0]


def real_figures(folder: Path) -> dict[str, Path]:
    """The report's six figures drawn by the figure functions from tiny inline tables."""
    from test_figures import NOTICE, _contrasts, _poll_average, _published, _toplines

    from pollwaves.report import figures_extra, figures_models, figures_paper
    from pollwaves.report.figures_common import save_figure

    top, pub = _toplines(), _published()
    avg, obs = _poll_average()
    waves = ["2022-04", "2023-03"]
    shares = pd.DataFrame([(w, c, s, 0.5, 0.4, 0.6) for w in waves for c in ("russia", "eu")
                           for s in ("support", "partly", "oppose", "hard_to_say")],
                          columns=["wave", "country", "war_support", "estimate", "ci_low",
                                   "ci_high"])  # fmt: skip
    weighting = pd.DataFrame({"wave": waves, "n": [800, 900], "deff_kish": [1.2, 1.3],
                              "n_eff": [666.7, 692.3]})  # fmt: skip
    margins = pd.DataFrame([("sex", c, w, 0.5, 0.47) for w in waves for c in ("male", "female")],
                           columns=["variable", "category", "wave", "sample_share",
                                    "target_share"])  # fmt: skip
    ame = pd.DataFrame({"variable": ["sex", "age_group"], "level": ["female", "55_plus"],
                        "reference": ["male", "18_24"], "estimate": [0.05, 0.1],
                        "ci_low": [0.0, 0.03], "ci_high": [0.1, 0.17]})  # fmt: skip
    figs = {
        "war_support_trend": figures_paper.war_support_figure(top, pub, notice=NOTICE),
        "alliance_trend": figures_paper.alliance_figure(
            top, pub, notice=NOTICE, contrasts=_contrasts(), invasion_date="2022-02-24"),
        "poll_average": figures_extra.poll_average_figure(avg, obs, notice=NOTICE),
        "subgroup_effects": figures_models.forest_figure(ame, notice=NOTICE),
        "attitudes_by_stance": figures_extra.attitudes_figure(shares, notice=NOTICE),
        "weighting": figures_extra.weighting_figure(weighting, margins, notice=NOTICE),
    }  # fmt: skip
    paths = {}
    for name, fig in figs.items():
        paths[name] = folder / f"{name}.png"
        save_figure(fig, paths[name], folder / f"{name}.svg", description=NOTICE)
    return paths


def text_px(html: str, images: list[dict]) -> list[tuple[str, float, float, float]]:
    """(alt, smallest in-figure text in CSS px, rendered width, figure box width) per image
    drawn by ``save_figure``, in document order; the font size comes from each embedded
    PNG's ``MinFontPt``."""
    from PIL import Image

    from pollwaves.report.figures_common import MIN_FONT_KEY

    uris = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(uris) == len(images)
    out = []
    for uri, img in zip(uris, images, strict=True):
        with Image.open(io.BytesIO(base64.b64decode(uri))) as im:
            if MIN_FONT_KEY not in im.info:
                continue  # not drawn by save_figure (the placeholders of other tests)
            pt, dpi = float(im.info[MIN_FONT_KEY]), float(im.info["dpi"][0])
            assert im.width == img["w"]
        out.append((img["alt"], pt * dpi / 72 * img["rw"] / img["w"], img["rw"], img["box"]))
    return out


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_figure_text_renders_at_least_10_css_px(tmp_path):
    html, _ = build(real_figures(tmp_path))
    page = tmp_path / "site" / "public_demand.html"
    report.write_report(html, page)
    events, (desktop, phone) = load(page, tmp_path / "profile")
    assert console_errors(events) == []
    for state, fits in ((desktop, True), (phone, False)):
        measured = text_px(html, state["images"])
        assert len(measured) == 6
        for alt, px, width, box in measured:
            assert px >= 10, (alt, px)
            if fits:  # on a desktop the figure fits its column: no sideways scrolling
                assert width <= box + 0.5, (alt, width, box)
    assert phone["scrollWidth"] <= 375  # a wide figure scrolls inside its box, not the page


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_text_measure_catches_a_figure_with_tiny_text(tmp_path):
    """Negative control: a wide figure with 5 pt text is either too small or too wide."""
    from matplotlib.figure import Figure

    from pollwaves.report.figures_common import save_figure

    paths = make_figures(tmp_path)
    fig = Figure(figsize=(13, 4))
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.text(0.5, 0.5, "tiny", fontsize=5)
    paths["alliance_trend"] = tmp_path / "tiny.png"
    save_figure(fig, paths["alliance_trend"], tmp_path / "tiny.svg")
    html, _ = build(paths)
    page = tmp_path / "site" / "bad.html"
    report.write_report(html, page)
    _, (desktop, _phone) = load(page, tmp_path / "profile")
    alt, px, width, box = [m for m in text_px(html, desktop["images"]) if "union" in m[0]][0]
    assert px < 10 or width > box + 0.5, (alt, px, width, box)
