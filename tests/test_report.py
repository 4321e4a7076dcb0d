"""`govnlp report`: the HTML report built from the real warehouse of the session pipeline run,
rendered in headless Chromium (offline, no console errors, every chart drawn)."""

from __future__ import annotations

import base64
import os
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from govnlp.report import render_report
from govnlp.warehouse.report_data import DATASETS, report_data

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("GOVNLP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GOVNLP_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHART_IDS = ["chart-documents", "chart-themes", "chart-topics", "chart-entities", "chart-network",
             "chart-duplicates", "chart-speakers", "chart-runs"]


class _ExternalRefs(HTMLParser):
    """Every attribute or CSS url() that would make the browser fetch something from the network."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action", "background") and value \
                    and re.match(r"\s*(https?:)?//", value, re.I):
                self.found.append(f"<{tag} {name}={value}>")
            if name == "style" and value and re.search(r"url\(\s*['\"]?\s*(https?:)?//", value, re.I):
                self.found.append(f"<{tag} style={value}>")

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style and re.search(r"url\(\s*['\"]?\s*(https?:)?//|@import", data, re.I):
            self.found.append(f"<style> {data[:200]}")


def external_references(page: str) -> list[str]:
    parser = _ExternalRefs()
    parser.feed(page)
    return parser.found


def _browser_or_skip():
    try:
        from selenium import webdriver  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("selenium not installed")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing browser binaries: {missing}")
        pytest.skip(f"missing browser binaries: {missing}")


def _driver(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,900",
                f"--user-data-dir={profile}",
                # Any attempt to reach the network fails loudly (as a console error) instead of succeeding.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    # Uncaught exceptions and rejected promises, recorded before any page script runs.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__pageErrors = [];
        window.addEventListener('error', e => window.__pageErrors.push(String(e.message || e)));
        window.addEventListener('unhandledrejection', e => window.__pageErrors.push('unhandled rejection: ' + String(e.reason)));
    """})
    return driver


_CHART_STATE_JS = """
return Array.from(document.querySelectorAll('div.chart')).map(div => {
  const svg = div.querySelector('svg');
  const canvas = div.querySelector('canvas');
  const marks = svg ? svg.querySelectorAll('g.role-mark > *').length : 0;
  const texts = svg ? Array.from(svg.querySelectorAll('g.role-mark text')).map(t => t.textContent) : [];
  return {id: div.id, svg: !!svg, canvas: !!canvas, marks: marks,
          width: svg ? svg.getBoundingClientRect().width : 0, texts: texts.slice(0, 50)};
});
"""


def render_in_browser(page_path: Path, profile: Path, screenshot: Path | None = None) -> dict:
    """Open the page, wait for every vega-embed call to settle; return errors, chart states, resources."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _driver(profile)
    try:
        driver.get(page_path.resolve().as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return (document.body && ['ok', 'error'].includes(document.body.dataset.rendered)) || window.__pageErrors.length > 0"))
        state = {
            "rendered": driver.execute_script("return document.body.dataset.rendered"),
            "page_errors": driver.execute_script("return window.__pageErrors"),
            "charts": driver.execute_script(_CHART_STATE_JS),
            "resources": driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"),
            "console": [e for e in driver.get_log("browser")],
        }
        if screenshot is not None:
            width, height = driver.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 16000), "scale": 1}})
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            state["console"] += driver.get_log("browser")
        return state
    finally:
        driver.quit()


def assert_clean(state: dict) -> None:
    errors = [e for e in state["console"] if e.get("level") in ("SEVERE", "ERROR")]
    assert not errors, f"console errors: {errors}"
    assert not state["page_errors"], f"page errors: {state['page_errors']}"
    assert state["rendered"] == "ok"
    external = [r for r in state["resources"] if not r.startswith(("data:", "blob:", "file:"))]
    assert not external, f"the page fetched: {external}"


@pytest.fixture(scope="module")
def report_page(first_run, tmp_path_factory) -> tuple[Path, dict]:
    import duckdb

    con = duckdb.connect(first_run["warehouse"], read_only=True)
    try:
        data = report_data(con, None, None)
    finally:
        con.close()
    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(render_report(data, None, None), encoding="utf-8")
    return page, data


def test_report_data_from_pipeline_warehouse(report_page):
    _, data = report_page
    assert set(data) == set(DATASETS)
    for key in ("documents_by_month", "theme_share_by_month", "topic_share_by_month", "emerging_topics", "top_entities",
                "cooccurrence_edges", "cooccurrence_nodes", "runs", "run_stages"):
        assert data[key], f"{key} is empty on the seed warehouse"
    assert all(0 <= r["share"] <= 1 for r in data["theme_share_by_month"] + data["topic_share_by_month"])
    assert len({r["topic_id"] for r in data["topic_share_by_month"]}) <= 8
    assert all(r["paragraphs_now"] > 0 and r["window_days"] == 91 for r in data["emerging_topics"])
    assert len(data["cooccurrence_edges"]) <= 40
    ids = {n["entity_id"] for n in data["cooccurrence_nodes"]}
    assert all(e["source_id"] in ids and e["target_id"] in ids for e in data["cooccurrence_edges"])
    for label in {r["label"] for r in data["top_entities"]}:
        assert sum(r["label"] == label for r in data["top_entities"]) <= 10
    assert all(r["duration_seconds"] is None or r["duration_seconds"] >= 0 for r in data["runs"])


def test_report_data_date_filter(db):
    everything = report_data(db, None, None)
    none = report_data(db, date(1900, 1, 1), date(1900, 12, 31))
    assert everything["documents_by_month"]
    assert all(not rows for rows in none.values()), {k: len(v) for k, v in none.items() if v}
    months = sorted({r["month"] for r in everything["documents_by_month"]})
    first = date.fromisoformat(months[0])
    only_first = report_data(db, first, first.replace(day=28))
    assert {r["month"] for r in only_first["documents_by_month"]} == {months[0]}


def test_report_renders_offline_in_chromium(report_page, tmp_path):
    _browser_or_skip()
    page, data = report_page
    html = page.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert not re.search(r"<script[^>]+src\s*=", html, re.I)
    assert "Period (publication date): <strong>all dates</strong>" in html

    state = render_in_browser(page, tmp_path / "profile", screenshot=ARTIFACTS / "report.png")
    assert_clean(state)
    charts = {c["id"]: c for c in state["charts"]}
    assert sorted(charts) == sorted(CHART_IDS)
    for chart in charts.values():
        assert chart["svg"] or chart["canvas"], f"{chart['id']}: nothing rendered"
        assert chart["marks"] > 0 and chart["width"] > 0, f"{chart['id']}: no marks: {chart}"
    # Datasets the seed run fills are drawn as data, not as the "no data" placeholder.
    for cid in ("chart-documents", "chart-themes", "chart-topics", "chart-entities", "chart-network", "chart-runs"):
        assert not any(t.startswith("no ") for t in charts[cid]["texts"]), f"{cid} shows no data: {charts[cid]['texts']}"
    assert charts["chart-network"]["marks"] >= len(data["cooccurrence_edges"]) + len(data["cooccurrence_nodes"])
    assert "China" in charts["chart-network"]["texts"]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    emerging = html.split('<table id="emerging-topics">', 1)[1].split("</table>", 1)[0]
    assert emerging.count("<tr>") == len(data["emerging_topics"]) + 1  # header plus one row per topic
    assert data["emerging_topics"][0]["topic"] in emerging


def test_empty_report_renders():
    empty = {key: [] for key in DATASETS}
    page = render_report(empty, date(2025, 1, 1), date(2025, 3, 31), title="empty <report>")
    assert "2025-01-01 to 2025-03-31" in page
    assert "empty &lt;report&gt;" in page
    assert external_references(page) == []
    assert page.count('class="chart"') == len(CHART_IDS)
    assert render_report({}, None, None)  # missing keys are empty datasets too


def test_empty_report_in_chromium(tmp_path):
    _browser_or_skip()
    page = tmp_path / "empty.html"
    page.write_text(render_report({key: [] for key in DATASETS}, None, date(2025, 3, 31)), encoding="utf-8")
    state = render_in_browser(page, tmp_path / "profile")
    assert_clean(state)
    for chart in state["charts"]:
        assert chart["marks"] > 0, chart
        assert any(t.startswith("no ") for t in chart["texts"]), chart
