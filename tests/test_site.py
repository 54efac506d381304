"""The static leaderboard site: built from committed tables and records, every
link resolves inside it, nothing is fetched from elsewhere, and in headless
Chromium the tables render, sort by clicking and log no console error."""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest

from cardiobench.leaderboard.store import Store
from tests.conftest import REPO, cli

TASKS = ("dcm-cls", "myo-seg")  # reported rows with audit footnotes, joint (multi-task) records, segmentation records without per-item predictions


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.targets.append(value)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("board")
    for task in TASKS:
        shutil.copytree(REPO / "leaderboards" / task, root / task)
    out = root.parent / "site"
    result = cli("leaderboard", "site", "--root", root, "--out", out, "--no-progress")
    assert result.code == 0, result.err
    return out


def test_every_table_and_record_has_a_page_and_every_link_resolves_locally(site: Path, registry):
    store = Store(REPO / "leaderboards")
    for task in TASKS:
        for table in store.tables(task, store.ledger(task)):
            page = (site / task / f"{table.stem}.html").read_text()
            assert page.count('<tr>') - 1 >= len({r["model"]["name"] for r in table.records})
            for record in table.records:
                assert (site / task / "runs" / f"{record['run_id']}.html").is_file()
    pages = list(site.rglob("*.html"))
    for page in pages:
        parser = Links()
        parser.feed(page.read_text())
        for target in parser.targets:
            assert not re.match(r"^[a-z]+:", target), f"{page} refers outside the site: {target}"
            local = urldefrag(target).url
            assert not local or (page.parent / local).resolve().is_file(), f"{page}: broken link {target}"
    index = (site / "index.html").read_text()
    assert all(f'id="{task}"' in index for task in TASKS)
    (quick_table,) = [t for t in store.tables("dcm-cls", store.ledger("dcm-cls")) if t.preset == "quick"]
    quick = (site / "dcm-cls" / f"{quick_table.stem}.html").read_text()
    assert "Audit" in quick and 'href="#audit-1"' in quick and "Version history" in quick
    assert "How to read this table" in quick and "Kendall" in quick and "Holm" in quick
    assert f'src="{quick_table.stem}-significance.png"' in quick and f'src="{quick_table.stem}-stability.png"' in quick


def test_a_run_page_shows_its_config_environment_and_plots(site: Path):
    store = Store(REPO / "leaderboards")
    record = next(r for r in store.records("dcm-cls") if r.get("test_items"))
    page = (site / "dcm-cls" / "runs" / f"{record['run_id']}.html").read_text()
    assert "train:" in page and record["environment"]["torch"] in page and f"--seed {record['seed']}" in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert f"{record['run_id']}/history.png" in images and len(images) >= 2
    portable = next(r for r in store.records("dcm-cls") if r["environment"].get("numerics", {}).get("mode") == "portable")
    page = (site / "dcm-cls" / "runs" / f"{portable['run_id']}.html").read_text()
    assert re.search(r'<dd id="numerics">portable \(' + portable["environment"]["numerics"]["key"] + r"\): ATen DEFAULT, oneDNN off", page)


def _browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("headless Chromium is not installed (Debian/Ubuntu: apt-get install chromium chromium-driver; .ci/run installs it)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


def test_in_chromium_tables_render_sort_by_clicking_and_log_no_error(site: Path):
    from selenium.webdriver.common.by import By

    browser = _browser()
    try:
        browser.get((site / "index.html").as_uri())
        assert len(browser.find_elements(By.CSS_SELECTOR, "table.sortable tbody tr")) >= 4
        shot = os.environ.get("CARDIOBENCH_SITE_SCREENSHOT")
        if shot:
            browser.save_screenshot(shot)
        store = Store(REPO / "leaderboards")
        browser.set_window_size(1280, 1000)
        for task in TASKS:  # every table page, the widest (myo-seg: five metrics) included
            for table in store.tables(task, store.ledger(task)):
                browser.get((site / task / f"{table.stem}.html").as_uri())
                widths = browser.execute_script("const s = document.querySelector('#reproduced').parentElement; return [document.documentElement.scrollWidth, s.scrollWidth, s.clientWidth];")
                assert widths[0] <= 1280 and widths[1] <= widths[2], f"{task}/{table.stem} or its table scrolls sideways on a 1280-pixel screen: {widths}"
        (quick,) = [t for t in store.tables("dcm-cls", store.ledger("dcm-cls")) if t.preset == "quick"]
        browser.get((site / "dcm-cls" / f"{quick.stem}.html").as_uri())
        rows = browser.find_elements(By.CSS_SELECTOR, "#reproduced tbody tr")
        assert len(rows) >= 2 and all(row.is_displayed() for row in rows)
        header = browser.find_element(By.CSS_SELECTOR, "#reproduced thead th:nth-child(3)")  # params

        def column() -> list[float]:
            return [float(cell.get_attribute("data-value")) for cell in browser.find_elements(By.CSS_SELECTOR, "#reproduced tbody td:nth-child(3)")]

        header.click()
        assert column() == sorted(column()) and header.get_attribute("aria-sort") == "ascending"
        header.click()
        assert column() == sorted(column(), reverse=True) and header.get_attribute("aria-sort") == "descending"
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()
