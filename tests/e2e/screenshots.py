"""Takes the README screenshots of the labeling page (desktop and phone width) into
docs/screenshots/. Not a test; run by hand after changing the page, with the virtual environment
that tests/e2e/run.sh fills:
    RLHF_BIN=build/app/rlhf .venv/bin/python tests/e2e/screenshots.py [--out DIR]
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

import harness

TASK = {
    "id": "demo-1",
    "kind": "helpful",
    "conversation": [
        {"role": "user",
         "content": "I keep missing deadlines at work. How can I get better at managing my time?"},
    ],
    "responses": [
        {"id": "a", "text": "Start each day by writing down the three tasks that matter most, and do "
                            "the hardest one first, before email.\n\nBlock time for focused work in "
                            "your calendar and treat those blocks like meetings. At the end of the "
                            "week, look at which deadlines slipped and why: most people find one or "
                            "two recurring causes."},
        {"id": "b", "text": "Try the Pomodoro technique: 25 minutes of focused work, then a 5 minute "
                            "break. After four rounds, take a longer break."},
        {"id": "c", "text": "Time management was invented by Benjamin Franklin in 1712, and studies "
                            "show that 97% of people who use a planner never miss a deadline."},
        {"id": "d", "text": "Just work harder and sleep less. Deadlines are more important than your "
                            "health."},
    ],
    "target_labels": 3,
}


def take_screenshots(playwright, out):
    workspace = Path(tempfile.mkdtemp(prefix="rlhf-e2e-shots-"))
    db = workspace / "labels.db"
    server = harness.Server(db)
    token = harness.add_labeler(db, "alice")
    harness.import_tasks(db, [TASK, {**TASK, "id": "demo-2"}])
    url = server.start()
    browser = harness.launch_browser(playwright, workspace / "profile",
                                     viewport={"width": 1280, "height": 860})
    try:
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.goto(url + "/")
        page.locator("#login-view").wait_for()
        page.screenshot(path=out / "login.png")
        harness.login(page, url, token)
        page.screenshot(path=out / "desktop-start.png")

        # A finished ranking with a tie at the bottom (a > b > c = d), a score and a flag on c.
        def card(text):
            return harness.card(page, text)

        card("Start each day").locator(".rank-next").click()
        card("Pomodoro").locator(".rank-next").click()
        card("Franklin").locator(".rank-next").click()
        card("Just work harder").locator(".rank-next").click()
        card("Just work harder").locator(".tie-up").click()
        c = card("Franklin")
        c.locator("summary").click()
        c.locator('.likert input[value="2"]').check()
        c.locator(".flags label", has_text="Makes up facts").click()
        page.fill("#comment", "The Franklin answer invents a statistic.")
        card("Pomodoro").focus()
        page.screenshot(path=out / "desktop-ranking.png")

        page.keyboard.press("?")
        page.screenshot(path=out / "shortcuts.png")
        page.keyboard.press("Escape")

        page.set_viewport_size({"width": 390, "height": 844})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=out / "phone-top.png")
        # The tied bottom rank with the rating and flags of c open.
        page.locator(".tier.tied").evaluate("(n) => n.scrollIntoView({ block: 'start' })")
        page.screenshot(path=out / "phone-ranking.png")

        page.set_viewport_size({"width": 1280, "height": 860})
        page.goto(url + "/guidelines")
        page.screenshot(path=out / "guidelines.png")
    finally:
        browser.close()
        server.stop()
        shutil.rmtree(workspace, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=harness.REPO_ROOT / "docs" / "screenshots",
                        help="where the PNG files go (default: docs/screenshots/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        take_screenshots(playwright, args.out)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
