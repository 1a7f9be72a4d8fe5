"""Ranking in a real browser by mouse (drag and drop, clicks), by keyboard only, and with ties;
every test checks what reached the database through `rlhf labeling export`."""

import re

from harness import (add_labeler, card, drag, export_rows, import_tasks, login, norm_tiers,
                     prompt_id_shown, shown_ids, sql_value, task, wait_for_answer_saved)


def test_mouse_drag_and_drop_builds_a_ranking_with_a_tie(db, server, page):
    """Drags alone build a > b = c > d; a drop into a gap makes a new rank; the export has the
    tiers and the tie gives 5 pairs instead of 6."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("drag-1", ["a", "b", "c", "d"])])
    url = server.start()
    login(page, url, token)

    # Target: a > b = c > d, made only with drags.
    drag(page, card(page, "Answer a"), page.locator(".gap-empty"))
    drag(page, card(page, "Answer b"), page.locator(".gap-end"))
    drag(page, card(page, "Answer d"), page.locator(".gap-end"))
    drag(page, card(page, "Answer c"), page.locator('.tier[data-tier="1"]'))
    # A drop into a gap makes a new rank: move d above a, then back to the bottom.
    drag(page, card(page, "Answer d"), page.locator('.gap[data-gap="0"]'))
    assert "Answer d" in page.text_content('.tier[data-tier="0"]')
    assert page.locator(".tier").count() == 3
    drag(page, card(page, "Answer d"), page.locator(".gap-end"))

    page.click("#submit-btn")
    wait_for_answer_saved(page, "Prompt drag-1")

    rows = export_rows(db)
    assert len(rows) == 1
    assert norm_tiers(rows[0]["tiers"]) == [["a"], ["b", "c"], ["d"]]
    assert len(rows[0]["shown_order"]) == 4
    assert rows[0]["source"] == "human"
    # b = c is a tie: 5 strictly ordered pairs instead of 6.
    assert len(export_rows(db, "pairs")) == 5


def test_mouse_click_best_to_worst_with_undo_likert_flags_and_comment(db, server, page):
    """"Rank next" clicks with an undo in between give a strict ranking; Likert scores, a flag and
    the comment reach the export with the time the labeler took."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("click-1", ["a", "b", "c", "d"])])
    url = server.start()
    login(page, url, token)

    for letter in ["d", "c", "a"]:
        card(page, f"Answer {letter}").locator(".rank-next").click()
    page.click("#undo-btn")  # takes a back out
    for letter in ["b", "a"]:
        card(page, f"Answer {letter}").locator(".rank-next").click()
    assert page.locator(".pool .card").count() == 0

    a = card(page, "Answer a")
    a.locator("summary").click()
    a.locator('.likert input[value="2"]').check()
    a.locator(".flags label", has_text="Makes up facts").click()
    card(page, "Answer d").locator("summary").click()
    card(page, "Answer d").locator('.likert input[value="7"]').check()
    page.fill("#comment", "a invents a date; d is the clearest.")

    page.click("#submit-btn")
    wait_for_answer_saved(page, "Prompt click-1")

    [row] = export_rows(db)
    assert row["tiers"] == [["d"], ["c"], ["b"], ["a"]]
    assert row["likert"] == {"a": 2, "d": 7}
    assert row["flags"] == {"a": ["hallucination"]}
    assert row["comment"] == "a invents a date; d is the clearest."
    assert row["duration_ms"] > 0, "the page reports how long the labeler took"
    assert len(export_rows(db, "pairs")) == 6  # strict ranking of 4: 4*3/2 pairs


def test_keyboard_only_ranking_with_ties_moves_undo_and_likert(db, server, page):
    """Everything by keyboard: sign in, Tab to a card, ? and Escape for the shortcut sheet, number
    keys, = for a tie, Enter for the next rank, Shift+arrows to move, 0 and U, R and arrows for
    a Likert score, Ctrl+Enter to submit."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("keys-1", ["a", "b", "c", "d"])])
    url = server.start()

    # Sign in with the keyboard too: the token field has the focus on the login view.
    page.goto(url + "/")
    page.locator("#login-view").wait_for()
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    page.locator(".card").first.wait_for()

    # Tab until a card has the focus.
    for _ in range(15):
        if page.evaluate("() => document.activeElement.classList.contains('card')"):
            break
        page.keyboard.press("Tab")
    shown = shown_ids(page)  # database ids in shown order

    def focused_id():
        return page.evaluate("() => Number(document.activeElement.dataset.id)")

    assert focused_id() == shown[0]

    # The shortcut sheet opens on ? and closes on Escape.
    page.keyboard.press("?")
    assert page.locator("#help-dialog").evaluate("(d) => d.open")
    page.keyboard.press("Escape")
    assert not page.locator("#help-dialog").evaluate("(d) => d.open")
    assert focused_id() == shown[0], "closing the sheet gives the focus back to the card"

    # s0 -> rank 1; s1 -> rank 2; s2 ties with s1 (=); s3 -> next rank (Enter).
    page.keyboard.press("1")
    page.keyboard.press("ArrowDown")
    assert focused_id() == shown[1]
    page.keyboard.press("2")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("=")
    page.keyboard.press("ArrowDown")
    assert focused_id() == shown[3]
    page.keyboard.press("Enter")
    # Shift+Up: s3 swaps with the tie group above it; then 0 unranks it and U undoes that.
    page.keyboard.press("Shift+ArrowUp")
    assert focused_id() == shown[3], "the moved card keeps the focus"
    page.keyboard.press("0")
    assert page.locator(".pool .card").count() == 1
    page.keyboard.press("u")
    assert page.locator(".pool .card").count() == 0

    # Likert by keyboard: R opens the card's rating, Tab reaches the radios, arrows pick a value
    # (the focus must survive each change for the second arrow to land).
    page.keyboard.press("ArrowUp")
    assert focused_id() == shown[0]
    page.keyboard.press("r")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type === 'radio'"):
            break
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")

    page.keyboard.press("Control+Enter")
    wait_for_answer_saved(page, "Prompt keys-1")

    [row] = export_rows(db)
    s = row["shown_order"]  # the same order, as external ids
    assert norm_tiers(row["tiers"]) == norm_tiers([[s[0]], [s[3]], [s[1], s[2]]])
    assert row["likert"] == {s[0]: 3}


def test_ties_all_in_one_rank_is_valid_and_gives_no_pairs(db, server, page):
    """All responses tied (with the "= above" buttons) is a valid answer with no pairs; a partial
    tie by number keys (x > y = z) gives two pairs, both in one group."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("tie-1", ["a", "b", "c"]), task("tie-2", ["a", "b", "c"])])
    url = server.start()
    login(page, url, token)

    # First task: all three tied, with the "= above" buttons.
    first = prompt_id_shown(page, r"tie-\d")
    ids = shown_ids(page)
    page.locator(f'.card[data-id="{ids[0]}"] .rank-next').click()
    for response_id in ids[1:]:
        page.locator(f'.card[data-id="{response_id}"] .rank-next').click()
        page.locator(f'.card[data-id="{response_id}"] .tie-up').click()
    assert page.locator(".tier").count() == 1
    assert re.match(r"[A-C] = [A-C] = [A-C]", page.text_content("#summary"))
    page.click("#submit-btn")
    wait_for_answer_saved(page, f"Prompt {first}")
    second = "tie-2" if first == "tie-1" else "tie-1"

    # Second task: a partial tie with number keys (x > y = z).
    ids2 = shown_ids(page)
    page.locator(f'.card[data-id="{ids2[2]}"]').focus()
    page.keyboard.press("1")
    page.locator(f'.card[data-id="{ids2[0]}"]').focus()
    page.keyboard.press("2")
    page.locator(f'.card[data-id="{ids2[1]}"]').focus()
    page.keyboard.press("2")
    page.keyboard.press("Control+Enter")
    page.locator("#message-view").wait_for(state="visible")

    rows = export_rows(db)
    assert len(rows) == 2
    by_prompt = {r["prompt_id"]: r for r in rows}
    assert norm_tiers(by_prompt[first]["tiers"]) == [["a", "b", "c"]]
    s = by_prompt[second]["shown_order"]
    assert norm_tiers(by_prompt[second]["tiers"]) == norm_tiers([[s[2]], [s[0], s[1]]])

    pairs = export_rows(db, "pairs")
    # All tied: no pair. x > y = z: two pairs, both with x chosen.
    assert len(pairs) == 2
    assert all(p["group_id"] == pairs[0]["group_id"] for p in pairs)


def test_phone_width_fits_ranks_by_taps_and_skips_with_a_reason(db, server, page):
    """At 390 px the page never scrolls sideways; a task is ranked by taps and the other skipped
    through the dialog with a reason and a comment."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("phone-1", ["a", "b", "c"]), task("phone-2", ["a", "b"])])
    url = server.start()
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, url, token)

    def overflow():
        return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")

    assert overflow() <= 0, "the page fits the phone width"
    first = prompt_id_shown(page, r"phone-\d")
    letters = ["c", "a", "b"] if first == "phone-1" else ["b", "a"]
    for letter in letters:
        card(page, f"Answer {letter} ").locator(".rank-next").click()
    assert overflow() <= 0, "still fits with ranked cards"
    page.click("#submit-btn")
    wait_for_answer_saved(page, f"Prompt {first}")

    # The other task is skipped through the dialog.
    page.click("#skip-btn")
    page.locator("#skip-dialog label", has_text="unclear").click()
    page.fill("#skip-comment", "too short to judge")
    page.click("#skip-confirm")
    page.locator("#message-view").wait_for(state="visible")

    [row] = export_rows(db)
    assert row["prompt_id"] == first
    assert row["tiers"] == [[l] for l in letters]
    assert sql_value(db, "SELECT reason || ':' || comment FROM skips") == \
        "unclear_prompt:too short to judge"
