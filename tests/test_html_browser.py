"""The practice page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by selenium).  Skipped with a message when Chromium is
absent; under CI (CI=true) its absence fails.

Screenshots at 390 px (a phone) and 1280 px are saved in .test-cache/screenshots/
for a developer to look at."""

from __future__ import annotations

import functools
import json
import os
import pkgutil
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
        time.sleep(0.02)
    raise AssertionError(f"the browser saved no {path.name}")


# One browser session serves every problem (starting Chromium is the slow part).  A
# WebDriver command is a round trip that waits for the page to render (tens of ms, and
# a second on line_1101_gd's 150,000 nodes), so each step of the test reads all it
# asserts in one script; the page's own handlers do the work.
_READ = """
var displayed = %s;
var step = document.querySelector("details.step"), body = step.querySelector(".body");
function marked(k) {
  return {input: document.getElementById("a" + k).className.split(/\\s+/),
          mark: document.getElementById("m" + k).innerText};
}
function answer(k, text) {   // what typing leaves: the value and its input event
  var input = document.getElementById("a" + k);
  input.value = text; input.dispatchEvent(new Event("input"));
}
var out = {score: document.getElementById("score").innerText,
           overflow: document.documentElement.scrollWidth - window.innerWidth};
"""


@functools.cache
def _is_displayed() -> str:
    """The script selenium's WebElement.is_displayed runs (its visibility rules)."""
    return pkgutil.get_data("selenium.webdriver.remote", "isDisplayed.js").decode("utf-8")


def _script(browser, body: str, *args):
    """Run ``body`` after _READ's helpers; it fills and returns ``out``."""
    return browser.execute_script(_READ % _is_displayed() + body + "return out;", *args)


@pytest.fixture(scope="module")
def downloads(browser, tmp_path_factory):
    """Where the browser saves a download (each page's file has its problem's name)."""
    folder = tmp_path_factory.mktemp("downloads")
    browser.execute_cdp_cmd("Page.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(folder)})
    return folder


@pytest.mark.parametrize("name", NAMES)
def test_page_loads_with_no_error_and_no_request(browser, downloads, name, tmp_path):
    """Every bundled problem's page in the browser: it loads with no console error
    and no request; a right number is marked right and a wrong one wrong; a step
    opens; the answers the download button saves pass check."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _, page = export_page(name, tmp_path)
    entries = page.data["entries"]
    browser.get((tmp_path / "page.html").as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors[:3]
    assert not _requests(browser)
    # Wide maths scrolls in its own box, not the page, at 390 px and at 1280 px: first
    # at the width the page was loaded at (the one the test before left), then at the
    # other, kept for the rest (typing and marking do not depend on the width).  One
    # resize with the page shown: a resize lays the page out again, which for the
    # 1,407 entries of line_1101_gd takes as long as loading it.
    shown = browser.get_window_size()["width"]
    first = _script(browser, "")
    assert first["score"].startswith("0 of "), first["score"]
    other = 1280 if shown == 390 else 390
    assert first["overflow"] <= 0, f"the page scrolls sideways at {shown} px"
    browser.set_window_size(other, 900)

    # the expected numbers come from the independent calculation, not the page
    reference = reference_of(name)
    answers = [repr(reference[e["label"]]) for e in entries]
    right, wrong = 0, 1
    ref = reference[entries[wrong]["label"]]
    # a right number with 10 significant figures (far inside the tolerance), a wrong
    # one with 6, each set with the input event typing sends (test_typing_marks_and_
    # steps_reveal types key by key: each key is a round trip that waits for the page
    # to render, a second on line_1101_gd)
    second = _script(browser, """
        answer(arguments[0], arguments[1]); answer(arguments[2], arguments[3]);
        out.right = marked(arguments[0]); out.wrong = marked(arguments[2]);
        out.folded = [step.open, displayed(body)];
        step.querySelector("summary").focus();""",
        right, format(reference[entries[right]["label"]], ".10g"),
        wrong, format(ref + 0.5 + abs(ref) / 10, ".6g"))
    assert second["overflow"] <= 0, f"the page scrolls sideways at {other} px"
    assert "right" in second["right"]["input"], entries[right]
    assert "wrong" in second["wrong"]["input"], entries[wrong]
    assert "right" in second["right"]["mark"]
    assert "not yet" in second["wrong"]["mark"]

    # revealing a step: folded until opened (by keyboard: Enter on its summary, which
    # has the focus), then its numbers show
    assert second["folded"] == [False, False]
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    # every entry answered (set at once, each with the input event typing sends:
    # typing thousands of numbers takes minutes), then the download button: check
    # marks the saved file all right
    third = _script(browser, """
        out.opened = [step.open, displayed(body), body.getElementsByTagName("math").length];
        arguments[0].forEach(function (v, k) { answer(k, v); });
        // the text the script wrote (innerText would lay out the marked page first)
        out.score = document.getElementById("score").textContent;
        document.getElementById("download").click();""", answers)
    assert third["opened"][:2] == [True, True] and third["opened"][2], third["opened"]
    score = third["score"]
    assert score.startswith(f"{len(entries)} of {len(entries)} right"), score
    saved = _wait_for(downloads / page.data["file"])
    (tmp_path / "answers.yaml").write_text(saved, encoding="utf-8")
    result = helpers.run_cli("check", "answers.yaml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    marks = json.loads(result.stdout)
    assert marks["all_right"] and marks["score"]["total"] == len(entries), marks["score"]
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_a_hostile_title_leaves_the_page_working(browser, tmp_path):
    """A title that would end the page's data early, or make it swallow the page's
    script ('<!--<script>'), is shown as written and the practice still marks."""
    from test_html import HOSTILE_TITLE, hostile_page

    hostile_page(tmp_path)
    browser.get((tmp_path / "page.html").as_uri())
    seen = _script(browser, """
        answer(0, "0"); out.score = document.getElementById("score").textContent;
        out.h1 = document.querySelector("h1").textContent;
        out.file = typeof window.bpnnAnswerFile === "function" ? window.bpnnAnswerFile() : null;""")
    assert seen["h1"] == HOSTILE_TITLE
    assert seen["file"] is not None and HOSTILE_TITLE in seen["file"].splitlines()[0]
    assert "(1 answered)" in seen["score"], seen["score"]


def test_typing_marks_and_steps_reveal(browser, tmp_path):
    """Real typing, key by key: the marks, a hint and a step opened by keyboard, the
    file check marks, and screenshots at a phone's width and a laptop's."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, page = export_page("lecture_122", tmp_path)
    reference = reference_of("lecture_122")
    # Loaded at the phone's width (typed there), then widened once for the 1280 px
    # screenshots: each resize of a shown page lays it out again.
    browser.get("about:blank")           # resized with no page to lay out again
    browser.set_window_size(390, 1100)
    browser.get((tmp_path / "page.html").as_uri())
    first, second = page.data["entries"][:2]
    right = f"{reference[first['label']]:.3f}"                 # as written: 3 decimals
    wrong = f"{reference[second['label']] + 0.01:.3f}"
    a0, a1 = browser.find_element(By.ID, "a0"), browser.find_element(By.ID, "a1")
    a0.send_keys(right)
    a1.send_keys(wrong)
    # a hint shows the step's numbers; a step opens by keyboard alone
    browser.find_element(By.CSS_SELECTOR, ".entry details.hint summary").send_keys(Keys.ENTER)
    browser.find_element(By.CSS_SELECTOR, "details.step summary").send_keys(Keys.ENTER)
    # what the typing and the keys left, read at once (a command is a round trip)
    seen = browser.execute_script("""
        function text(id) { return document.getElementById(id).innerText; }
        var body = document.querySelector(".entry details.hint .hint-body");
        return {a0: document.getElementById("a0").className.split(/\\s+/),
                a1: document.getElementById("a1").className.split(/\\s+/),
                m0: text("m0"), m1: text("m1"),
                hint: body.getElementsByTagName("math").length,
                step: document.querySelector("details.step").open,
                file: window.bpnnAnswerFile()};""")
    assert "right" in seen["a0"]
    assert "wrong" in seen["a1"]
    assert "right" in seen["m0"]
    assert "not yet" in seen["m1"]
    assert seen["hint"]
    assert seen["step"]
    # the file the download button saves: check marks the right number right
    (tmp_path / "answers.yaml").write_text(seen["file"], encoding="utf-8")
    result = helpers.run_cli("check", "answers.yaml", "--format", "json", cwd=tmp_path)
    marks = json.loads(result.stdout)
    assert marks["score"]["correct"] == 1 and marks["score"]["wrong"] == 1, marks["score"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        if width != 390:
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
