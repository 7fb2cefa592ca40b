"""The practice page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by selenium).  Skipped with a message when Chromium is
absent; under CI (CI=true) its absence fails.

Screenshots at 390 px (a phone) and 1280 px are saved in .test-cache/screenshots/
for a developer to look at."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import helpers
from test_html import export_page, reference_of

SCREENSHOTS = helpers.REPO / ".test-cache" / "screenshots"
NAMES = sorted(p.stem for p in helpers.BUNDLED.glob("*.yaml"))


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser():
    found = _chromium()
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
    if found is None or webdriver is None:
        message = ("headless Chromium is needed for the browser tests: apt-get install "
                   "chromium chromium-driver, pip install selenium")
        # CI as tests/test_export.py reads it: there a missing browser is a failure.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver, path: Path) -> None:
    driver.get(path.as_uri())
    driver.get_log("browser")        # what loading logged is read by the caller
    driver.get_log("performance")


def _requests(driver) -> list[str]:
    """Every URL the page asked for after loading (none may leave the file)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("file:", "data:")):
                urls.append(url)
    return urls


def _wait_for(path: Path, seconds: float = 20.0) -> str:
    """The text of a file the browser downloads, once it is complete."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return path.read_text(encoding="utf-8")
        time.sleep(0.1)
    raise AssertionError(f"the browser saved no {path.name}")


# One browser session serves every problem (starting Chromium is the slow part).
@pytest.mark.parametrize("name", NAMES)
def test_page_loads_with_no_error_and_no_request(browser, name, tmp_path):
    """Every bundled problem's page in the browser: it loads with no console error
    and no request; a right number is marked right and a wrong one wrong; a step
    opens; the answers the download button saves pass check."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, page = export_page(name, tmp_path)
    entries = page.data["entries"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
    browser.get((tmp_path / "page.html").as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors[:3]
    assert not _requests(browser)
    score = browser.find_element("id", "score").text
    assert score.startswith("0 of "), score
    # Wide maths scrolls in its own box, not the page, at 390 px and at 1280 px: first
    # at the width the page was loaded at (the one the test before left), then at the
    # other, kept for the rest (typing and marking do not depend on the width).  One
    # resize with the page shown: a resize lays the page out again, which for the
    # 1,407 entries of line_1101_gd takes as long as loading it.
    shown = browser.get_window_size()["width"]
    for width in (390, 1280) if shown == 390 else (1280, 390):
        if width != shown:
            browser.set_window_size(width, 900)
            shown = width
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth;")
        assert overflow <= 0, f"the page scrolls sideways at {width} px"

    # the expected numbers come from the independent calculation, not the page
    reference = reference_of(name)
    answers = [repr(reference[e["label"]]) for e in entries]
    right, wrong = 0, 1
    ref = reference[entries[wrong]["label"]]
    a_right = browser.find_element(By.ID, f"a{right}")
    a_wrong = browser.find_element(By.ID, f"a{wrong}")
    # typed with 10 significant figures (far inside the tolerance): chromedriver
    # sends a key at a time, about 13 ms each, and repr() is up to 19 characters
    a_right.send_keys(format(reference[entries[right]["label"]], ".10g"))
    a_wrong.send_keys(format(ref + 0.5 + abs(ref) / 10, ".6g"))
    assert "right" in a_right.get_attribute("class").split(), entries[right]
    assert "wrong" in a_wrong.get_attribute("class").split(), entries[wrong]
    assert "right" in browser.find_element(By.ID, f"m{right}").text
    assert "not yet" in browser.find_element(By.ID, f"m{wrong}").text

    # revealing a step: folded until opened (by keyboard), then its numbers show
    step = browser.find_element(By.CSS_SELECTOR, "details.step")
    body = step.find_element(By.CSS_SELECTOR, ".body")
    assert not step.get_attribute("open") and not body.is_displayed()
    step.find_element(By.TAG_NAME, "summary").send_keys(Keys.ENTER)
    assert step.get_attribute("open") and body.is_displayed()
    assert body.find_elements(By.TAG_NAME, "math")

    # every entry answered (set at once, each with the input event typing sends:
    # typing thousands of numbers takes minutes), then the download button: check
    # marks the saved file all right
    browser.execute_script(
        "var inputs = document.querySelectorAll('input[data-k]');"
        "arguments[0].forEach(function (v, k) {"
        "  inputs[k].value = v; inputs[k].dispatchEvent(new Event('input')); });", answers)
    score = browser.find_element("id", "score").text
    assert score.startswith(f"{len(entries)} of {len(entries)} right"), score
    browser.find_element(By.ID, "download").click()
    saved = _wait_for(downloads / page.data["file"])
    (tmp_path / "answers.yaml").write_text(saved, encoding="utf-8")
    result = helpers.run_cli("check", "answers.yaml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    marks = json.loads(result.stdout)
    assert marks["all_right"] and marks["score"]["total"] == len(entries), marks["score"]
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_typing_marks_and_steps_reveal(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, page = export_page("lecture_122", tmp_path)
    reference = reference_of("lecture_122")
    browser.get("about:blank")           # resized with no page to lay out again
    browser.set_window_size(1280, 900)
    browser.get((tmp_path / "page.html").as_uri())
    first, second = page.data["entries"][:2]
    right = f"{reference[first['label']]:.3f}"                 # as written: 3 decimals
    wrong = f"{reference[second['label']] + 0.01:.3f}"
    a0, a1 = browser.find_element(By.ID, "a0"), browser.find_element(By.ID, "a1")
    a0.send_keys(right)
    a1.send_keys(wrong)
    assert "right" in a0.get_attribute("class").split()
    assert "wrong" in a1.get_attribute("class").split()
    assert "right" in browser.find_element(By.ID, "m0").text
    assert "not yet" in browser.find_element(By.ID, "m1").text
    # a hint shows the step's numbers; a step opens by keyboard alone
    hint = browser.find_element(By.CSS_SELECTOR, ".entry details.hint summary")
    hint.send_keys(Keys.ENTER)
    body = browser.find_element(By.CSS_SELECTOR, ".entry details.hint .hint-body")
    assert body.find_elements(By.TAG_NAME, "math")
    step = browser.find_element(By.CSS_SELECTOR, "details.step summary")
    step.send_keys(Keys.ENTER)
    assert browser.find_element(By.CSS_SELECTOR, "details.step").get_attribute("open")
    # the file the download button saves: check marks the right number right
    text = browser.execute_script("return window.bpnnAnswerFile();")
    (tmp_path / "answers.yaml").write_text(text, encoding="utf-8")
    result = helpers.run_cli("check", "answers.yaml", "--format", "json", cwd=tmp_path)
    marks = json.loads(result.stdout)
    assert marks["score"]["correct"] == 1 and marks["score"]["wrong"] == 1, marks["score"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        browser.set_window_size(width, 1100)
        browser.execute_script("window.scrollTo(0, 0);")
        browser.save_screenshot(str(SCREENSHOTS / f"lecture_122-{width}.png"))
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth;")
        assert overflow <= 0, f"the page scrolls sideways at {width} px"
        browser.execute_script("document.getElementById('practice').scrollIntoView();")
        browser.save_screenshot(str(SCREENSHOTS / f"lecture_122-{width}-practice.png"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    browser.execute_script("window.scrollTo(0, 0);")
    browser.save_screenshot(str(SCREENSHOTS / "lecture_122-1280-dark.png"))
