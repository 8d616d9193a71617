"""The board page in a real headless Chromium (Debian's, driven by playwright), built from two
real runs and one under a long path-bearing policy spec: the table's rows and sorting, charts
with axes, ticks and value labels whose labels never overlap their bars, nothing wider than a
1000 or 1400 px window, no local path anywhere, a success and a failure video. Screenshots at
both widths are saved in the test's temporary folder (`screenshots` fixture)."""

import pathlib
import re

import pytest

from librobot_gym.cli import main

CHROMIUM = pathlib.Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1000, 1400)
RANDOM = "Uniform random actions, the seeded baseline every learned policy must beat"
LOCAL = re.compile(r"/(?:tmp|home|work|root)/")


@pytest.fixture(scope="module")
def board(mixed_runs, tmp_path_factory):
    """The mixed runs' board, the random run resubmitted under a long display name."""
    out = tmp_path_factory.mktemp("board")
    db = mixed_runs["store"].url
    assert main(["leaderboard", "build", "--db", db, "--card", str(mixed_runs["card_path"]),
                 "--out", str(out)]) == 0
    bundle = out.parent / "random-bundle"
    assert main(["bench", "export", mixed_runs["ids"]["random"], "--db", db, "--out",
                 str(bundle)]) == 0
    assert main(["leaderboard", "submit", str(bundle), "--board", str(out), "--name",
                 RANDOM]) == 0
    return out


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def page(board):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install "
                    "chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto((board / "index.html").as_uri())
        yield page
        browser.close()


def column(page, name: str) -> list[str]:
    headers = page.locator("#board thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if h.strip().startswith(name))
    return [row.locator("td").nth(index).inner_text().split("\n")[0]
            for row in page.locator("#board tbody tr").all()]


def test_table_has_one_row_per_run_with_display_names(page):
    assert page.locator("#board tbody tr").count() == 3
    assert column(page, "Policy") == ["expert", "ppo:ppo_pickcup_final.zip", RANDOM]
    assert page.locator("#board td.policy .spec").all_inner_texts() == ["random"]
    assert column(page, "Rank") == ["=1", "=1", "2"]  # random overlaps ppo


def test_clicking_a_header_sorts_the_table(page):
    page.locator("#board thead th", has_text="Policy").click()
    assert column(page, "Policy") == ["expert", "ppo:ppo_pickcup_final.zip", RANDOM]
    page.locator("#board thead th", has_text="Policy").click()
    assert column(page, "Policy") == [RANDOM, "ppo:ppo_pickcup_final.zip", "expert"]
    page.locator("#board thead th", has_text="Aggregate").click()  # numeric, ascending
    assert column(page, "Policy")[0] == RANDOM


def test_bar_charts_have_an_axis_ticks_and_value_labels(page):
    charts = page.locator("svg.chart")
    assert charts.count() == 1  # one task (cards of several also get an aggregate chart)
    for chart in charts.all():
        assert chart.locator(".x-axis line").count() >= 1
        assert chart.locator(".tick").count() == 5
        assert chart.locator(".tick-label").all_text_contents() == ["0", "0.25", "0.5", "0.75",
                                                                    "1"]
        assert chart.locator(".axis-label").count() == 1
        assert chart.locator("rect.bar").count() == 3 == chart.locator(".interval").count()
        values = chart.locator(".value-label").all_text_contents()
        assert len(values) == 3 and all(re.match(r"\d\.\d\d", v) for v in values)
    task = charts.first
    assert "1.00 (4/4)" in task.locator(".value-label").all_text_contents()


def test_bar_labels_never_overlap_their_bars(page):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overlaps = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].flatMap(
            svg => [...svg.querySelectorAll('.bar-label')].map((label, i) => {
                const bar = svg.querySelectorAll('rect.bar')[i].getBoundingClientRect();
                const text = label.getBoundingClientRect();
                return text.right > bar.left + 0.5 || text.left < svg.getBoundingClientRect().left
                    ? label.textContent : null; }).filter(Boolean))""")
        assert overlaps == [], (width, overlaps)


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_the_window(page, screenshots, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()  # as a reader first sees it (other tests sorted the table)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wide = page.evaluate("""(width) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > width + 0.5)
        .map(e => e.tagName + '.' + e.className)""", width)
    assert wide == []
    shot = screenshots / f"board-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_no_local_path_on_the_page(page, board):
    html = page.content()
    assert not LOCAL.search(html), LOCAL.search(html)
    assert str(board.parent) not in html
    sources = page.locator("video").evaluate_all("vs => vs.map(v => v.getAttribute('src'))")
    assert sources and all(s.startswith("videos/") for s in sources)
    assert all((board / s).exists() for s in sources)


def test_success_and_failure_videos_and_the_card(page):
    captions = page.locator("figcaption").all_inner_texts()
    assert any("success" in c for c in captions) and any("failure" in c for c in captions)
    assert "no failure among the 1 recorded episode" in page.locator("p.note").first.inner_text()
    assert "test card" in page.locator("p.lead").inner_text()  # the card's description
    assert page.locator("ul.instructions li").count() >= 1  # sample instructions


def test_per_seed_table(page, board):
    table = page.locator("table.seeds")
    assert table.locator("tbody tr").count() == 4  # seeds 10..13
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first[0] == "10" and first[1] == "✓ success ▶"
    assert table.locator(".aborted").count() == 1
    links = table.locator("a.play").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert len(links) == 3 and all(h.startswith("bundles/") for h in links)  # seed 10 each
    assert all((board / h).exists() for h in links)
