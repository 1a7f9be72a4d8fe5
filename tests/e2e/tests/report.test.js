// The evaluation report (`rlhf report`) opened from disk in a real browser: it renders without
// errors, loads nothing but itself, and shows the table, the curves and model text as text.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const h = require('../lib/harness');

const FIXTURE = path.join(__dirname, '..', '..', 'data', 'report');

test('report: self-contained page with the table, the curves and escaped samples', async (t) => h.withSetup(t, async ({ ws, page }) => {
  const out = path.join(ws.dir, 'report.html');
  h.rlhf(['report', '--eval', path.join(FIXTURE, 'eval.json'), '--run', path.join(FIXTURE, 'runs'), '--out', out]);
  const url = pathToFileURL(out).href;

  // Every request the page makes, and every console error (withSetup already fails on page errors).
  const requests = [];
  const consoleErrors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await page.goto(url);
  await page.waitForLoadState('load');

  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(requests.filter((u) => u !== url), [], 'the report must load nothing but itself');
  assert.equal(await page.locator('script').count(), 0);
  assert.equal(await page.title(), 'RLHF evaluation report');

  // The disclosure is near the top, before the table.
  const notesTop = (await page.locator('#notes').boundingBox()).y;
  const tableTop = (await page.locator('#eval-table').boundingBox()).y;
  assert.ok(notesTop < tableTop, 'notes come before the table');
  assert.match(await page.textContent('#notes'), /scripted labeler/);

  // One column per policy (after the metric's), one row per metric, in the documented order.
  const headers = await page.$$eval('#eval-table thead th', (ths) => ths.map((th) => th.textContent.trim()));
  assert.deepEqual(headers, ['Metric', 'base', 'sft', 'ppo']);
  const metrics = await page.$$eval('#eval-table tbody tr', (trs) => trs.map((tr) => tr.dataset.metric));
  assert.deepEqual(metrics, ['helpful_win_rate', 'truthfulqa_mc1', 'truthfulqa_mc1_few_shot', 'truthfulqa_mc2',
    'truthfulqa_mc2_few_shot', 'hh_chosen_preferred', 'anthropic_hhh_rate', 'reward_mean', 'kl_from_sft',
    'heldout_perplexity', 'response_length']);
  for (const row of await page.$$('#eval-table tbody tr')) assert.equal((await row.$$('td')).length, 3);
  const win = await page.$$eval('#eval-table tr[data-metric="helpful_win_rate"] td', (tds) => tds.map((td) => td.textContent));
  assert.match(win[2], /62\.0%/);
  assert.match(win[2], /95% CI 55\.0–68\.0%/);
  // Nulls are a dash; the best cell respects higher_is_better (lower perplexity wins: sft).
  const mc2few = await page.$$eval('#eval-table tr[data-metric="truthfulqa_mc2_few_shot"] td', (tds) => tds.map((td) => td.textContent.trim()));
  assert.deepEqual(mc2few, ['—', '—', '—']);
  const best = await page.$$eval('#eval-table tr[data-metric="heldout_perplexity"] td', (tds) => tds.map((td) => td.classList.contains('best')));
  assert.deepEqual(best, [false, true, false]);
  assert.match(await page.textContent('#labeling'), /no human labels yet/);

  // The curves: at least 8 charts, each a polyline of two or more points, from every stage.
  const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((svg) => {
    const line = svg.querySelector('polyline');
    return { key: svg.dataset.key, points: line ? line.points.numberOfItems : 0, width: svg.getBoundingClientRect().width };
  }));
  assert.ok(charts.length >= 8, `expected at least 8 charts, got ${charts.length}`);
  for (const c of charts) {
    assert.ok(c.points >= 2, `chart ${c.key} has ${c.points} points`);
    assert.ok(c.width > 100, `chart ${c.key} is rendered (width ${c.width})`);
  }
  const stages = await page.$$eval('#curves .stage', (divs) => divs.map((d) => d.dataset.stage));
  assert.deepEqual(stages, ['pretrain', 'sft', 'reward', 'ppo']);
  const ppoKeys = await page.$$eval('.stage[data-stage="ppo"] svg.chart', (svgs) => svgs.map((s) => s.dataset.key));
  assert.ok(ppoKeys.includes('held_out.score'));
  assert.ok(!ppoKeys.some((k) => k.startsWith('time_')), 'timings are not charted');

  // Model text is literal: the <b>html</b> in a response is text, not a bold element, and its
  // newline survives.
  const response = page.locator('#samples td[data-policy="ppo"] .response').first();
  assert.match(await response.textContent(), /<b>html<\/b>/);
  assert.equal(await page.locator('#samples b').count(), 0);
  assert.match(await response.innerText(), /like this:\n<b>important<\/b>/);
  assert.equal(await page.locator('#samples table.sample').count(), 2);
}));
