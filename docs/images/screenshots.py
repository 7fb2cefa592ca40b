"""The README's pictures of the practice page and of a solution sheet, remade from
the current code (the test suite never rewrites them).

    python docs/images/screenshots.py               # writes docs/images/practice-390.png
                                                    # and docs/images/sheet-page.png
    python docs/images/screenshots.py --review DIR  # also the page at 390 and 1280 px,
                                                    # light and dark, into DIR to look at

Needs what the browser tests and --pdf need: headless Chromium (`chromium`,
`chromium-driver`, selenium), pdflatex and pdftoppm (`poppler-utils`).  Run it
with the bpnn-steps of this checkout first on PATH.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

IMAGES = Path(__file__).resolve().parent
PROBLEM = "lecture_122"
SHEET_PAGE = 2          # the solution sheet's page with the feed-forward and the gradients


def bpnn(*args: str, cwd: Path) -> None:
    subprocess.run(["bpnn-steps", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--force-device-scale-factor=1"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def fit(driver: Any, width: int, height: int) -> None:
    """A viewport of exactly width x height CSS pixels (the window adds its frame)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def practice_views(page: Path, out: Path, review: Path | None) -> None:
    """The page as a student has it on a phone: two numbers typed (one right, one
    not), a hint open."""
    from selenium.webdriver.common.by import By

    driver = browser()
    try:
        driver.get(page.as_uri())
        # the page's own expected value for the first entry, the second one off by 0.1
        values = driver.execute_script(
            "var d = JSON.parse(document.getElementById('practice-data').textContent);"
            "return [d.entries[0].value, d.entries[1].value];")
        driver.find_element(By.ID, "a0").send_keys(f"{values[0]:.3f}")
        driver.find_element(By.ID, "a1").send_keys(f"{values[1] + 0.1:.3f}")
        driver.find_element(By.CSS_SELECTOR, ".entry details.hint summary").click()

        def shot(path: Path, width: int, height: int, dark: bool, where: str) -> None:
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
                {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
            fit(driver, width, height)
            driver.execute_script(where)
            driver.save_screenshot(str(path))

        to_practice = ("document.getElementById('practice-title').scrollIntoView();"
                       "window.scrollBy(0, -8);")
        shot(out / "practice-390.png", 390, 844, False, to_practice)
        if review is not None:
            review.mkdir(parents=True, exist_ok=True)
            for width, height in ((390, 844), (1280, 900)):
                for dark in (False, True):
                    for part, where in (("top", "window.scrollTo(0, 0);"),
                                        ("practice", to_practice)):
                        scheme = "dark" if dark else "light"
                        shot(review / f"{PROBLEM}-{width}-{scheme}-{part}.png",
                             width, height, dark, where)
    finally:
        driver.quit()


def sheet_page(work: Path, out: Path) -> None:
    bpnn("export", PROBLEM, "--sheet", "solution", "--pdf", "-o", "sheet.pdf", cwd=work)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(SHEET_PAGE), "-l",
                    str(SHEET_PAGE), "-singlefile", "sheet.pdf", "sheet"], cwd=work, check=True)
    shutil.copyfile(work / "sheet.png", out / "sheet-page.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--review", type=Path, help="also write the page at 390 and "
                        "1280 px, light and dark, into this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bpnn("export", PROBLEM, "--format", "html", "-o", "page.html", cwd=work)
        practice_views(work / "page.html", IMAGES, args.review)
        sheet_page(work, IMAGES)
    print(f"wrote {IMAGES / 'practice-390.png'} and {IMAGES / 'sheet-page.png'}")


if __name__ == "__main__":
    main()
