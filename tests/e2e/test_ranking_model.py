"""The page's ranking model (labeling/page/ranking.js) on its own: its pure functions run in
Chromium on a blank page (no server), loaded as the page loads it, a plain script that sets
window.RlhfRanking."""

import pytest

import harness

RANKING_JS = harness.REPO_ROOT / "labeling" / "page" / "ranking.js"


class RankingInPage:
    """Calls RlhfRanking.NAME(*args) in the page: ranking("putInTier", tiers, id, index).
    Arguments and results cross as JSON; `page` is there for checks that must stay inside the
    page (identity of the result, changes to the input)."""

    def __init__(self, page):
        self.page = page

    def __call__(self, name, *args):
        return self.page.evaluate("([name, args]) => RlhfRanking[name](...args)",
                                  [name, list(args)])


@pytest.fixture(scope="module")
def ranking(playwright):
    browser = playwright.chromium.launch(executable_path=harness.CHROMIUM, headless=True,
                                         args=harness.CHROMIUM_ARGS)
    page = browser.new_page()
    page.goto("about:blank")
    page.add_script_tag(path=RANKING_JS)
    assert page.evaluate("() => typeof window.RlhfRanking") == "object"
    yield RankingInPage(page)
    browser.close()


def test_put_in_tier_joins_the_shown_rank_and_past_the_end_starts_a_new_last_rank(ranking):
    """putInTier: joins the rank shown at the index (a tie), past the end starts a new last
    rank, and returns the very same tiers when the response is already there."""
    assert ranking("putInTier", [], 1, 0) == [[1]]
    assert ranking("putInTier", [[1]], 2, 5) == [[1], [2]]
    assert ranking("putInTier", [[1], [2]], 3, 1) == [[1], [2, 3]]
    # The index is the rank as shown before the move: 1 pressed "2" on itself joins 2.
    assert ranking("putInTier", [[1], [2]], 1, 1) == [[2, 1]]
    # Already there: the very same tiers come back, unchanged.
    assert ranking.page.evaluate(
        "() => { const tiers = [[1], [2]]; return RlhfRanking.putInTier(tiers, 2, 1) === tiers; }")


def test_insert_tier_makes_a_new_rank_at_a_gap_and_leaves_no_empty_rank(ranking):
    """insertTier: a rank of its own just above the gap's rank; the rank it left, if now empty,
    is gone."""
    assert ranking("insertTier", [[1], [2]], 3, 0) == [[3], [1], [2]]
    assert ranking("insertTier", [[1], [2]], 1, 2) == [[2], [1]]
    assert ranking("insertTier", [[1], [2]], 1, 1) == [[1], [2]]
    assert ranking("insertTier", [[1, 2]], 2, 1) == [[1], [2]]


def test_move_up_and_down_leave_a_tie_swap_ranks_and_enter_or_leave_the_ranking(ranking):
    """moveUp / moveDown: out of a tie first, then a swap with the next rank; the top stays,
    an unranked response enters at the bottom, the last one moves out of the ranking."""
    assert ranking("moveUp", [[1], [2, 3]], 3) == [[1], [3], [2]]
    assert ranking("moveUp", [[1], [3], [2]], 3) == [[3], [1], [2]]
    assert ranking("moveUp", [[3], [1]], 3) == [[3], [1]], "the top stays the top"
    assert ranking("moveUp", [[1]], 9) == [[1], [9]], "unranked: becomes the last rank"
    assert ranking("moveDown", [[1, 2], [3]], 1) == [[2], [1], [3]]
    assert ranking("moveDown", [[1], [2, 3]], 1) == [[2, 3], [1]]
    assert ranking("moveDown", [[1], [2]], 2) == [[1]], \
        "the last rank moves down out of the ranking"
    assert ranking("moveDown", [[1]], 9) == [[1]], "unranked: nothing below"


def test_no_function_changes_its_input(ranking):
    """Every function returns new tiers and leaves its argument as it was."""
    # Inside the page: arguments passed from Python are copies, so a change would not show here.
    before, after = ranking.page.evaluate("""() => {
        const R = RlhfRanking;
        const tiers = [[1], [2, 3], [4]];
        const before = JSON.stringify(tiers);
        R.putInTier(tiers, 4, 0); R.insertTier(tiers, 1, 3); R.unrank(tiers, 2);
        R.moveUp(tiers, 3); R.moveDown(tiers, 1); R.moveUp(tiers, 2); R.moveDown(tiers, 4);
        return [before, JSON.stringify(tiers)];
      }""")
    assert after == before


def test_rank_label_gives_english_ordinals(ranking):
    """rankLabel: index 0 -> "1st", with the teens (11th-13th) and 21st, 102nd, 111th right."""
    indexes = [0, 1, 2, 3, 10, 11, 12, 20, 21, 101, 110]
    assert [ranking("rankLabel", i) for i in indexes] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "102nd", "111th"]
