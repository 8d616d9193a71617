"""The board page in a real headless Chromium (Debian's, driven by playwright): the table has
the right rows, sorting by a column works, the charts rendered. Saves a screenshot."""

import pathlib

import pytest

from librobot_gym.cli import main

CHROMIUM = pathlib.Path("/usr/bin/chromium")
SCREENSHOT = pathlib.Path(__file__).resolve().parents[2] / "outputs" / "leaderboard" / \
    "demo-board.png"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(runs, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install "
                    "chromium)")
    from playwright.sync_api import sync_playwright

    out = tmp_path_factory.mktemp("board")
    assert main(["leaderboard", "build", "--db", runs["store"].url, "--card",
                 str(runs["card_path"]), "--out", str(out)]) == 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((out / "index.html").as_uri())
        yield page
        browser.close()


def column(page, name: str) -> list[str]:
    headers = page.locator("#board thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if h.strip().startswith(name))
    return [row.locator("td").nth(index).inner_text()
            for row in page.locator("#board tbody tr").all()]


def test_table_has_one_row_per_run(page):
    assert page.locator("#board tbody tr").count() == 2
    assert column(page, "Policy") == ["expert", "random"]
    assert column(page, "Rank") == ["1", "2"]


def test_clicking_a_header_sorts_the_table(page):
    page.locator("#board thead th", has_text="Policy").click()
    assert column(page, "Policy") == ["expert", "random"]
    page.locator("#board thead th", has_text="Policy").click()
    assert column(page, "Policy") == ["random", "expert"]
    page.locator("#board thead th", has_text="Aggregate").click()  # numeric, ascending
    assert column(page, "Policy") == ["random", "expert"]


def test_charts_rendered_and_screenshot(page):
    chart = page.locator("svg.chart").first
    assert chart.is_visible()
    assert page.locator("svg.chart rect").count() >= 2
    box = chart.bounding_box()
    assert box["width"] > 100 and box["height"] > 40
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
