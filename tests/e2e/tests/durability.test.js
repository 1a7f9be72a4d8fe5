// Nothing is lost: the local draft survives a reload, a submit whose answer never arrives is
// retried with the same Idempotency-Key and stored once, and a server killed with SIGKILL loses
// neither answers it confirmed nor answers the page still holds.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/harness');

test('reload restores the whole draft', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('reload-1', ['a', 'b', 'c', 'd'])]);
  const url = await server.start();
  await h.login(page, url, token);

  // Half an answer: c first, a and d tied second; b unranked; ratings, a flag and a comment.
  await h.card(page, 'Answer c').locator('.rank-next').click();
  await h.card(page, 'Answer a').locator('.rank-next').click();
  await h.card(page, 'Answer d').locator('.rank-next').click();
  await h.card(page, 'Answer d').locator('.tie-up').click();
  await h.card(page, 'Answer b').locator('summary').click();
  await h.card(page, 'Answer b').locator('.likert input[value="3"]').check();
  await h.card(page, 'Answer b').locator('.flags label', { hasText: 'Harmful advice' }).click();
  await page.fill('#comment', 'half done, ünïcode ✓');
  const summaryBefore = await page.textContent('#summary');

  await page.reload();
  await page.locator('.card').first().waitFor();

  assert.equal(await page.textContent('#summary'), summaryBefore);
  assert.match(await page.textContent('.tier[data-tier="0"]'), /Answer c/);
  assert.equal(await page.locator('.tier[data-tier="1"] .card').count(), 2);
  assert.equal(await page.locator('.pool .card').count(), 1);
  const b = h.card(page, 'Answer b');
  assert.ok(await b.locator('.likert input[value="3"]').isChecked());
  assert.ok(await b.locator('.flags input[value="harmful_advice"]').isChecked());
  assert.equal(await page.inputValue('#comment'), 'half done, ünïcode ✓');
  assert.equal(h.exportRows(ws.db).length, 0, 'nothing is stored before submit');

  // Finish after the reload: b goes last.
  await b.locator('.rank-next').click();
  await page.keyboard.press('Control+Enter');
  await h.waitForAnswerSaved(page, 'Prompt reload-1');

  const [row] = h.exportRows(ws.db);
  assert.deepEqual(h.normTiers(row.tiers), [['c'], ['a', 'd'], ['b']]);
  assert.deepEqual(row.likert, { b: 3 });
  assert.deepEqual(row.flags, { b: ['harmful_advice'] });
  assert.equal(row.comment, 'half done, ünïcode ✓');
  // The draft is gone once the server confirmed.
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('rlhf.draft')).length), 0);
}));

test('a submit whose response is lost is retried with the same key and stored once', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('abort-1', ['a', 'b', 'c'])]);
  const url = await server.start();
  await h.login(page, url, token);

  // The first submit reaches the server (which stores it), but the browser sees the connection
  // reset; later ones pass through untouched.
  const seen = [];
  await page.route('**/api/v1/assignments/*/submit', async (route) => {
    const req = route.request();
    seen.push({ key: req.headers()['idempotency-key'], body: req.postData() });
    if (seen.length === 1) {
      const response = await route.fetch();
      seen[0].status = response.status();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });

  for (const l of ['b', 'a', 'c']) await h.card(page, `Answer ${l}`).locator('.rank-next').click();
  await page.click('#submit-btn');
  await h.waitForAnswerSaved(page, 'Prompt abort-1');

  assert.equal(seen.length, 2, 'one failed attempt, one retry');
  assert.equal(seen[0].status, 201, 'the first attempt was stored by the server');
  assert.equal(seen[1].key, seen[0].key, 'the retry reuses the Idempotency-Key');
  assert.equal(seen[1].body, seen[0].body, 'the retry sends the same body');
  const rows = h.exportRows(ws.db);
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0].tiers, [['b'], ['a'], ['c']]);
  assert.equal(h.sqlValue(ws.db, 'SELECT COUNT(*) FROM submissions'), '1');
}));

test('server killed with SIGKILL and restarted loses nothing', async (t) => h.withSetup(t, async ({ ws, server, browser }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('kill-1', ['a', 'b', 'c']), h.task('kill-2', ['a', 'b', 'c']),
    h.task('kill-3', ['a', 'b', 'c'])]);
  const url = await server.start();
  let page = browser.pages()[0];
  await h.login(page, url, token);
  const promptId = async () => (await page.textContent('#conversation')).match(/Prompt (kill-\d)/)[1];
  const rankAll = async (order) => {
    for (const l of order) await h.card(page, `Answer ${l}`).locator('.rank-next').click();
  };
  const expected = {};

  // 1. Confirmed by the server (201), then SIGKILL at once: the row must survive.
  let p = await promptId();
  await rankAll(['a', 'b', 'c']);
  expected[p] = [['a'], ['b'], ['c']];
  const confirmed = page.waitForResponse((r) => r.url().includes('/submit') && r.status() === 201);
  await page.click('#submit-btn');
  await confirmed;
  await server.kill();
  await server.start();
  await h.waitForAnswerSaved(page, `Prompt ${p}`);  // the page reconnects and loads the next task
  await page.locator('.card').first().waitFor();

  // 2. The server is dead when the labeler submits: the page keeps retrying until it is back.
  p = await promptId();
  await rankAll(['c', 'b', 'a']);
  expected[p] = [['c'], ['b'], ['a']];
  await server.kill();
  await page.click('#submit-btn');
  await page.locator('#submit-status', { hasText: 'saved on this device' }).waitFor();
  await server.start();
  await h.waitForAnswerSaved(page, `Prompt ${p}`);
  await page.locator('.card').first().waitFor();

  // 3. Server dead and the tab closed before the answer got through: a new tab sends it.
  p = await promptId();
  await rankAll(['b', 'c', 'a']);
  expected[p] = [['b'], ['c'], ['a']];
  await server.kill();
  await page.click('#submit-btn');
  await page.locator('#submit-status', { hasText: 'saved on this device' }).waitFor();
  await page.close();
  await server.start();
  page = await browser.newPage();
  await page.goto(url + '/');
  await page.locator('#message-view').waitFor({ state: 'visible' });  // all three done

  const rows = h.exportRows(ws.db);
  assert.equal(rows.length, 3, 'three answers, none lost, none duplicated');
  for (const row of rows) assert.deepEqual(row.tiers, expected[row.prompt_id], row.prompt_id);
  assert.equal(h.sqlValue(ws.db, 'SELECT COUNT(*) FROM submissions'), '3');
}));
