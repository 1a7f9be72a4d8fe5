"""Model text is shown literally (never run as HTML), and the API only answers the right
labeler."""

import re

from harness import (add_labeler, export_rows, http_call, import_tasks, login, revoke_labeler,
                     task)

XSS = [
    '<img src=x onerror="window.__xss = 1">',
    "<script>window.__xss = 2</script>",
    '"><svg onload="window.__xss = 3"></svg><b>bold?</b> & &amp; </div>',
]


def test_xss_prompt_and_response_text_render_literally(db, server, page):
    """The page is served with a CSP forbidding inline script; HTML in the conversation and the
    responses is shown as text, nothing runs, and the text reaches the export unchanged."""
    token = add_labeler(db, "alice")
    import_tasks(db, [{
        "id": "xss-1",
        "kind": "harmless",
        "conversation": [
            {"role": "user", "content": '<i>hi</i><img src=y onerror="window.__xss = 4">'},
            {"role": "assistant", "content": "Hello <u>there</u>"},
            {"role": "user", "content": "Say <script>window.__xss = 5</script> something"},
        ],
        "responses": [{"id": f"r{i}", "text": text} for i, text in enumerate(XSS)],
    }])
    url = server.start()

    # The page is served with the CSP that forbids inline script.
    res = http_call(url, "GET", "/")
    assert "default-src 'self'" in (res.headers.get("content-security-policy") or "")

    login(page, url, token)
    texts = page.eval_on_selector_all(".card-text", "(nodes) => nodes.map((n) => n.textContent)")
    assert sorted(texts) == sorted(XSS)
    conversation = page.eval_on_selector_all(".turn-text",
                                             "(nodes) => nodes.map((n) => n.textContent)")
    assert conversation == ['<i>hi</i><img src=y onerror="window.__xss = 4">',
                            "Hello <u>there</u>",
                            "Say <script>window.__xss = 5</script> something"]
    # Nothing became markup.
    injected = page.eval_on_selector_all(
        "#conversation img, #conversation script, #conversation i, #board img, #board script, "
        "#board svg, #board .card-text b", "(nodes) => nodes.length")
    assert injected == 0
    # A handler that ran would have set window.__xss; there is no event to wait for when nothing
    # happens, so give a would-be handler a moment before checking.
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss === undefined"), "no injected handler ran"

    # The text survives the round trip into the export unchanged.
    for handle in page.query_selector_all(".card"):
        handle.query_selector(".rank-next").click()
    page.click("#submit-btn")
    page.locator("#message-view").wait_for(state="visible")
    [row] = export_rows(db)
    assert sorted(r["text"] for r in row["responses"]) == sorted(XSS)


def test_auth_refuses_no_token_bad_token_revoked_token_and_another_labelers_assignment(
        db, server, page):
    """No token: login form and 401. A wrong token is refused by the form. Bob can neither see,
    answer nor skip Alice's assignment (by token or from his signed-in page). A POST from a
    foreign origin is refused. A token revoked while signed in sends the page back to the login
    form, keeps the unsent answer on the device and works nowhere any more."""
    alice = add_labeler(db, "alice")
    bob = add_labeler(db, "bob")
    import_tasks(db, [task("auth-1", ["a", "b"]), task("auth-2", ["a", "b"])])
    url = server.start()

    def call(method, path, token=None, body=None, headers=None):
        return http_call(url, method, "/api/v1" + path, token=token, body=body, headers=headers)

    # No token: the page shows the login form and the API answers 401.
    page.goto(url + "/")
    page.locator("#login-view").wait_for()
    assert page.evaluate("async () => (await fetch('/api/v1/me')).status") == 401
    assert call("POST", "/tasks/next").status == 401

    # A wrong token is refused by the form.
    page.fill("#token", "f" * 64)
    page.click("#login-form button[type=submit]")
    page.locator("#login-error", has_text=re.compile("unknown or revoked", re.I)).wait_for()

    # Another labeler's assignment: alice has one open; bob can neither see nor answer it.
    a = call("POST", "/tasks/next", alice, {}).json()["assignment"]
    tiers = [[r["id"]] for r in a["responses"]]
    assert call("GET", f"/assignments/{a['id']}", bob).status == 404
    stolen = call("POST", f"/assignments/{a['id']}/submit", bob, {"tiers": tiers},
                  {"Idempotency-Key": "bob-steals-0001"})
    assert stolen.status == 404
    assert call("POST", f"/assignments/{a['id']}/skip", bob, {"reason": "other"}).status == 404
    # Same through bob's browser session (cookie auth, same-origin POST).
    login(page, url, bob)
    from_page = page.evaluate(
        """async ({ id, tiers }) => (await fetch(`/api/v1/assignments/${id}/submit`, {
             method: 'POST',
             headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'bob-page-00001' },
             body: JSON.stringify({ tiers }),
           })).status""",
        {"id": a["id"], "tiers": tiers})
    assert from_page == 404
    assert len(export_rows(db)) == 0
    # Alice's assignment is untouched: she gets the same one back.
    assert call("POST", "/tasks/next", alice, {}).json()["assignment"]["id"] == a["id"]

    # A POST from a foreign origin is refused even with a valid token.
    foreign = call("POST", "/tasks/next", bob, {}, {"Origin": "http://evil.example"})
    assert foreign.status == 403

    # Revoked while signed in: bob's ranked answer gets 401, the page asks to sign in again and
    # keeps the answer locally; his token no longer works anywhere.
    page.locator(".card").first.wait_for()
    for handle in page.query_selector_all(".card"):
        handle.query_selector(".rank-next").click()
    revoke_labeler(db, "bob")
    page.click("#submit-btn")
    page.locator("#login-view").wait_for(state="visible")
    kept = page.evaluate(
        """() => Object.keys(localStorage)
             .filter((k) => k.startsWith('rlhf.draft.v1.bob.'))
             .map((k) => JSON.parse(localStorage.getItem(k)))
             .filter((d) => d.pending).length""")
    assert kept == 1, "the unsent answer stays on the device"
    page.fill("#token", bob)
    page.click("#login-form button[type=submit]")
    page.locator("#login-error", has_text=re.compile("unknown or revoked", re.I)).wait_for()
    assert call("GET", "/me", bob).status == 401
    assert call("GET", "/me", alice).status == 200
    assert len(export_rows(db)) == 0, "nothing from bob after the revocation"
