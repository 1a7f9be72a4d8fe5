"""The evaluation report (`rlhf report`) opened from disk in a real browser: it renders without
errors, loads nothing but itself, and shows the table, the curves and model text as text."""

import re

import pytest

from harness import REPO_ROOT, has_command, rlhf

FIXTURE = REPO_ROOT / "tests" / "data" / "report"


def test_report_is_self_contained_with_the_table_the_curves_and_escaped_samples(
        workspace, page):
    """The report loads nothing but itself and has no script; the notes come before the table;
    one column per policy and one row per metric in the documented order, nulls as a dash and
    the best cell by higher_is_better; at least 8 rendered curves from every stage (timings not
    charted); HTML in model samples shown as text with its newlines."""
    if not has_command("report"):
        pytest.skip("this rlhf binary has no `report` command (built without LibTorch)")
    out = workspace / "report.html"
    rlhf("report", "--eval", FIXTURE / "eval.json", "--run", FIXTURE / "runs", "--out", out)
    url = out.as_uri()

    # Every request the page makes, and every console error (page errors already fail the test).
    requests = []
    console_errors = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_load_state("load")

    assert console_errors == []
    assert [u for u in requests if u != url] == [], "the report must load nothing but itself"
    assert page.locator("script").count() == 0
    assert page.title() == "RLHF evaluation report"

    # The disclosure is near the top, before the table.
    notes_top = page.locator("#notes").bounding_box()["y"]
    table_top = page.locator("#eval-table").bounding_box()["y"]
    assert notes_top < table_top, "notes come before the table"
    assert "scripted labeler" in page.text_content("#notes")

    # One column per policy (after the metric's), one row per metric, in the documented order.
    headers = page.eval_on_selector_all("#eval-table thead th",
                                        "(ths) => ths.map((th) => th.textContent.trim())")
    assert headers == ["Metric", "base", "sft", "ppo"]
    metrics = page.eval_on_selector_all("#eval-table tbody tr",
                                        "(trs) => trs.map((tr) => tr.dataset.metric)")
    assert metrics == ["helpful_win_rate", "truthfulqa_mc1", "truthfulqa_mc1_few_shot",
                       "truthfulqa_mc2", "truthfulqa_mc2_few_shot", "hh_chosen_preferred",
                       "anthropic_hhh_rate", "reward_mean", "kl_from_sft", "heldout_perplexity",
                       "response_length"]
    for row in page.query_selector_all("#eval-table tbody tr"):
        assert len(row.query_selector_all("td")) == 3
    win = page.eval_on_selector_all('#eval-table tr[data-metric="helpful_win_rate"] td',
                                    "(tds) => tds.map((td) => td.textContent)")
    assert re.search(r"62\.0%", win[2])
    assert re.search(r"95% CI 55\.0–68\.0%", win[2])
    # Nulls are a dash; the best cell respects higher_is_better (lower perplexity wins: sft).
    mc2_few = page.eval_on_selector_all('#eval-table tr[data-metric="truthfulqa_mc2_few_shot"] td',
                                        "(tds) => tds.map((td) => td.textContent.trim())")
    assert mc2_few == ["—", "—", "—"]
    best = page.eval_on_selector_all('#eval-table tr[data-metric="heldout_perplexity"] td',
                                     "(tds) => tds.map((td) => td.classList.contains('best'))")
    assert best == [False, True, False]
    assert "no human labels yet" in page.text_content("#labeling")

    # The curves: at least 8 charts, each a polyline of two or more points, from every stage.
    charts = page.eval_on_selector_all("svg.chart", """(svgs) => svgs.map((svg) => {
        const line = svg.querySelector('polyline');
        return { key: svg.dataset.key, points: line ? line.points.numberOfItems : 0,
                 width: svg.getBoundingClientRect().width };
      })""")
    assert len(charts) >= 8, f"expected at least 8 charts, got {len(charts)}"
    for chart in charts:
        assert chart["points"] >= 2, f"chart {chart['key']} has {chart['points']} points"
        assert chart["width"] > 100, f"chart {chart['key']} is rendered (width {chart['width']})"
    stages = page.eval_on_selector_all("#curves .stage", "(divs) => divs.map((d) => d.dataset.stage)")
    assert stages == ["pretrain", "sft", "reward", "ppo"]
    ppo_keys = page.eval_on_selector_all('.stage[data-stage="ppo"] svg.chart',
                                         "(svgs) => svgs.map((s) => s.dataset.key)")
    assert "held_out.score" in ppo_keys
    assert not any(k.startswith("time_") for k in ppo_keys), "timings are not charted"

    # Model text is literal: the <b>html</b> in a response is text, not a bold element, and its
    # newline survives.
    response = page.locator('#samples td[data-policy="ppo"] .response').first
    assert "<b>html</b>" in response.text_content()
    assert page.locator("#samples b").count() == 0
    assert "like this:\n<b>important</b>" in response.inner_text()
    assert page.locator("#samples table.sample").count() == 2
