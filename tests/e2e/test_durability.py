"""Nothing is lost: the local draft survives a reload, a submit whose answer never arrives is
retried with the same Idempotency-Key and stored once, and a server killed with SIGKILL loses
neither answers it confirmed nor answers the page still holds."""

from harness import (add_labeler, card, export_rows, import_tasks, login, norm_tiers,
                     prompt_id_shown, sql_value, task, wait_for_answer_saved)


def test_reload_restores_the_whole_draft(db, server, page):
    """A half-done answer (ranks, a tie, Likert, a flag, a unicode comment) comes back after a
    reload, nothing is stored before submit, and the draft is gone once the server confirmed."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("reload-1", ["a", "b", "c", "d"])])
    url = server.start()
    login(page, url, token)

    # Half an answer: c first, a and d tied second; b unranked; ratings, a flag and a comment.
    card(page, "Answer c").locator(".rank-next").click()
    card(page, "Answer a").locator(".rank-next").click()
    card(page, "Answer d").locator(".rank-next").click()
    card(page, "Answer d").locator(".tie-up").click()
    card(page, "Answer b").locator("summary").click()
    card(page, "Answer b").locator('.likert input[value="3"]').check()
    card(page, "Answer b").locator(".flags label", has_text="Harmful advice").click()
    page.fill("#comment", "half done, ünïcode ✓")
    summary_before = page.text_content("#summary")

    page.reload()
    page.locator(".card").first.wait_for()

    assert page.text_content("#summary") == summary_before
    assert "Answer c" in page.text_content('.tier[data-tier="0"]')
    assert page.locator('.tier[data-tier="1"] .card').count() == 2
    assert page.locator(".pool .card").count() == 1
    b = card(page, "Answer b")
    assert b.locator('.likert input[value="3"]').is_checked()
    assert b.locator('.flags input[value="harmful_advice"]').is_checked()
    assert page.input_value("#comment") == "half done, ünïcode ✓"
    assert len(export_rows(db)) == 0, "nothing is stored before submit"

    # Finish after the reload: b goes last.
    b.locator(".rank-next").click()
    page.keyboard.press("Control+Enter")
    wait_for_answer_saved(page, "Prompt reload-1")

    [row] = export_rows(db)
    assert norm_tiers(row["tiers"]) == [["c"], ["a", "d"], ["b"]]
    assert row["likert"] == {"b": 3}
    assert row["flags"] == {"b": ["harmful_advice"]}
    assert row["comment"] == "half done, ünïcode ✓"
    # The draft is gone once the server confirmed.
    drafts = page.evaluate(
        "() => Object.keys(localStorage).filter((k) => k.startsWith('rlhf.draft')).length")
    assert drafts == 0


def test_submit_whose_response_is_lost_is_retried_with_the_same_key_and_stored_once(
        db, server, page):
    """The first submit reaches the server (201) but the browser sees a connection reset; the
    page retries with the same Idempotency-Key and body, and the answer is stored once."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("abort-1", ["a", "b", "c"])])
    url = server.start()
    login(page, url, token)

    # The first submit reaches the server (which stores it), but the browser sees the connection
    # reset; later ones pass through untouched.
    seen = []

    def lose_first_response(route):
        request = route.request
        seen.append({"key": request.headers.get("idempotency-key"), "body": request.post_data})
        if len(seen) == 1:
            response = route.fetch()
            seen[0]["status"] = response.status
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/assignments/*/submit", lose_first_response)

    for letter in ["b", "a", "c"]:
        card(page, f"Answer {letter}").locator(".rank-next").click()
    page.click("#submit-btn")
    wait_for_answer_saved(page, "Prompt abort-1")

    assert len(seen) == 2, "one failed attempt, one retry"
    assert seen[0]["status"] == 201, "the first attempt was stored by the server"
    assert seen[1]["key"] == seen[0]["key"], "the retry reuses the Idempotency-Key"
    assert seen[1]["body"] == seen[0]["body"], "the retry sends the same body"
    rows = export_rows(db)
    assert len(rows) == 1
    assert rows[0]["tiers"] == [["b"], ["a"], ["c"]]
    assert sql_value(db, "SELECT COUNT(*) FROM submissions") == "1"


def test_server_killed_with_sigkill_and_restarted_loses_nothing(db, server, browser):
    """Three answers survive SIGKILLs: one the server had confirmed, one submitted while the
    server was dead (the page retries), one whose tab was closed while the server was dead
    (a new tab sends it). None is lost, none duplicated."""
    token = add_labeler(db, "alice")
    import_tasks(db, [task("kill-1", ["a", "b", "c"]), task("kill-2", ["a", "b", "c"]),
                      task("kill-3", ["a", "b", "c"])])
    url = server.start()
    page = browser.pages[0]
    login(page, url, token)

    def rank_all(order):
        for letter in order:
            card(page, f"Answer {letter}").locator(".rank-next").click()

    expected = {}

    # 1. Confirmed by the server (201), then SIGKILL at once: the row must survive.
    p = prompt_id_shown(page, r"kill-\d")
    rank_all(["a", "b", "c"])
    expected[p] = [["a"], ["b"], ["c"]]
    with page.expect_response(lambda r: "/submit" in r.url and r.status == 201):
        page.click("#submit-btn")
    server.kill()
    server.start()
    wait_for_answer_saved(page, f"Prompt {p}")  # the page reconnects and loads the next task
    page.locator(".card").first.wait_for()

    # 2. The server is dead when the labeler submits: the page keeps retrying until it is back.
    p = prompt_id_shown(page, r"kill-\d")
    rank_all(["c", "b", "a"])
    expected[p] = [["c"], ["b"], ["a"]]
    server.kill()
    page.click("#submit-btn")
    page.locator("#submit-status", has_text="saved on this device").wait_for()
    server.start()
    wait_for_answer_saved(page, f"Prompt {p}")
    page.locator(".card").first.wait_for()

    # 3. Server dead and the tab closed before the answer got through: a new tab sends it.
    p = prompt_id_shown(page, r"kill-\d")
    rank_all(["b", "c", "a"])
    expected[p] = [["b"], ["c"], ["a"]]
    server.kill()
    page.click("#submit-btn")
    page.locator("#submit-status", has_text="saved on this device").wait_for()
    page.close()
    server.start()
    page = browser.new_page()
    page.goto(url + "/")
    page.locator("#message-view").wait_for(state="visible")  # all three done

    rows = export_rows(db)
    assert len(rows) == 3, "three answers, none lost, none duplicated"
    for row in rows:
        assert row["tiers"] == expected[row["prompt_id"]], row["prompt_id"]
    assert sql_value(db, "SELECT COUNT(*) FROM submissions") == "3"
