// Ranking in a real browser by mouse (drag and drop, clicks), by keyboard only, and with ties;
// every test checks what reached the database through `rlhf labeling export`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/harness');

test('mouse: drag and drop builds a ranking with a tie', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('drag-1', ['a', 'b', 'c', 'd'])]);
  const url = await server.start();
  await h.login(page, url, token);

  // Target: a > b = c > d, made only with drags.
  await h.drag(page, h.card(page, 'Answer a'), page.locator('.gap-empty'));
  await h.drag(page, h.card(page, 'Answer b'), page.locator('.gap-end'));
  await h.drag(page, h.card(page, 'Answer d'), page.locator('.gap-end'));
  await h.drag(page, h.card(page, 'Answer c'), page.locator('.tier[data-tier="1"]'));
  // A drop into a gap makes a new rank: move d above a, then back to the bottom.
  await h.drag(page, h.card(page, 'Answer d'), page.locator('.gap[data-gap="0"]'));
  assert.match(await page.textContent('.tier[data-tier="0"]'), /Answer d/);
  assert.equal(await page.locator('.tier').count(), 3);
  await h.drag(page, h.card(page, 'Answer d'), page.locator('.gap-end'));

  await page.click('#submit-btn');
  await h.waitForAnswerSaved(page, 'Prompt drag-1');

  const rows = h.exportRows(ws.db);
  assert.equal(rows.length, 1);
  assert.deepEqual(h.normTiers(rows[0].tiers), [['a'], ['b', 'c'], ['d']]);
  assert.equal(rows[0].shown_order.length, 4);
  assert.equal(rows[0].source, 'human');
  // b = c is a tie: 5 strictly ordered pairs instead of 6.
  assert.equal(h.exportRows(ws.db, 'pairs').length, 5);
}));

test('mouse: click best to worst, undo, Likert, flags and comment', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('click-1', ['a', 'b', 'c', 'd'])]);
  const url = await server.start();
  await h.login(page, url, token);

  for (const l of ['d', 'c', 'a']) await h.card(page, `Answer ${l}`).locator('.rank-next').click();
  await page.click('#undo-btn');  // takes a back out
  for (const l of ['b', 'a']) await h.card(page, `Answer ${l}`).locator('.rank-next').click();
  assert.equal(await page.locator('.pool .card').count(), 0);

  const a = h.card(page, 'Answer a');
  await a.locator('summary').click();
  await a.locator('.likert input[value="2"]').check();
  await a.locator('.flags label', { hasText: 'Makes up facts' }).click();
  await h.card(page, 'Answer d').locator('summary').click();
  await h.card(page, 'Answer d').locator('.likert input[value="7"]').check();
  await page.fill('#comment', 'a invents a date; d is the clearest.');

  await page.click('#submit-btn');
  await h.waitForAnswerSaved(page, 'Prompt click-1');

  const [row] = h.exportRows(ws.db);
  assert.deepEqual(row.tiers, [['d'], ['c'], ['b'], ['a']]);
  assert.deepEqual(row.likert, { a: 2, d: 7 });
  assert.deepEqual(row.flags, { a: ['hallucination'] });
  assert.equal(row.comment, 'a invents a date; d is the clearest.');
  assert.ok(row.duration_ms > 0, 'the page reports how long the labeler took');
  assert.equal(h.exportRows(ws.db, 'pairs').length, 6);  // strict ranking of 4: 4*3/2 pairs
}));

test('keyboard only: focus, number keys, tie key, Enter, shift+arrows, undo, Ctrl+Enter', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('keys-1', ['a', 'b', 'c', 'd'])]);
  const url = await server.start();

  // Sign in with the keyboard too: the token field has the focus on the login view.
  await page.goto(url + '/');
  await page.locator('#login-view').waitFor();
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.locator('.card').first().waitFor();

  // Tab until a card has the focus.
  for (let i = 0; i < 15; i++) {
    if (await page.evaluate(() => document.activeElement.classList.contains('card'))) break;
    await page.keyboard.press('Tab');
  }
  const shown = await h.shownIds(page);  // database ids in shown order
  const focusedId = () => page.evaluate(() => Number(document.activeElement.dataset.id));
  assert.equal(await focusedId(), shown[0]);

  // The shortcut sheet opens on ? and closes on Escape.
  await page.keyboard.press('?');
  assert.ok(await page.locator('#help-dialog').evaluate((d) => d.open));
  await page.keyboard.press('Escape');
  assert.ok(!(await page.locator('#help-dialog').evaluate((d) => d.open)));
  assert.equal(await focusedId(), shown[0], 'closing the sheet gives the focus back to the card');

  // s0 -> rank 1; s1 -> rank 2; s2 ties with s1 (=); s3 -> next rank (Enter).
  await page.keyboard.press('1');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedId(), shown[1]);
  await page.keyboard.press('2');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('=');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedId(), shown[3]);
  await page.keyboard.press('Enter');
  // Shift+Up: s3 swaps with the tie group above it; then 0 unranks it and U undoes that.
  await page.keyboard.press('Shift+ArrowUp');
  assert.equal(await focusedId(), shown[3], 'the moved card keeps the focus');
  await page.keyboard.press('0');
  assert.equal(await page.locator('.pool .card').count(), 1);
  await page.keyboard.press('u');
  assert.equal(await page.locator('.pool .card').count(), 0);

  // Likert by keyboard: R opens the card's rating, Tab reaches the radios, arrows pick a value
  // (the focus must survive each change for the second arrow to land).
  await page.keyboard.press('ArrowUp');
  assert.equal(await focusedId(), shown[0]);
  await page.keyboard.press('r');
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.type === 'radio')) break;
  }
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');

  await page.keyboard.press('Control+Enter');
  await h.waitForAnswerSaved(page, 'Prompt keys-1');

  const [row] = h.exportRows(ws.db);
  const s = row.shown_order;  // the same order, as external ids
  assert.deepEqual(h.normTiers(row.tiers), h.normTiers([[s[0]], [s[3]], [s[1], s[2]]]));
  assert.deepEqual(row.likert, { [s[0]]: 3 });
}));

test('ties: every response in one rank is a valid answer with no pairs', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('tie-1', ['a', 'b', 'c']), h.task('tie-2', ['a', 'b', 'c'])]);
  const url = await server.start();
  await h.login(page, url, token);

  // First task: all three tied, with the "= above" buttons.
  const first = (await page.textContent('#conversation')).match(/Prompt (tie-\d)/)[1];
  const ids = await h.shownIds(page);
  await page.locator(`.card[data-id="${ids[0]}"] .rank-next`).click();
  for (const id of ids.slice(1)) {
    await page.locator(`.card[data-id="${id}"] .rank-next`).click();
    await page.locator(`.card[data-id="${id}"] .tie-up`).click();
  }
  assert.equal(await page.locator('.tier').count(), 1);
  assert.match(await page.textContent('#summary'), /^[A-C] = [A-C] = [A-C]/);
  await page.click('#submit-btn');
  await h.waitForAnswerSaved(page, `Prompt ${first}`);
  const second = first === 'tie-1' ? 'tie-2' : 'tie-1';

  // Second task: a partial tie with number keys (x > y = z).
  const ids2 = await h.shownIds(page);
  await page.locator(`.card[data-id="${ids2[2]}"]`).focus();
  await page.keyboard.press('1');
  await page.locator(`.card[data-id="${ids2[0]}"]`).focus();
  await page.keyboard.press('2');
  await page.locator(`.card[data-id="${ids2[1]}"]`).focus();
  await page.keyboard.press('2');
  await page.keyboard.press('Control+Enter');
  await page.locator('#message-view').waitFor({ state: 'visible' });

  const rows = h.exportRows(ws.db);
  assert.equal(rows.length, 2);
  const byPrompt = Object.fromEntries(rows.map((r) => [r.prompt_id, r]));
  assert.deepEqual(h.normTiers(byPrompt[first].tiers), [['a', 'b', 'c']]);
  const s = byPrompt[second].shown_order;
  assert.deepEqual(h.normTiers(byPrompt[second].tiers), h.normTiers([[s[2]], [s[0], s[1]]]));

  const pairs = h.exportRows(ws.db, 'pairs');
  // All tied: no pair. x > y = z: two pairs, both with x chosen.
  assert.equal(pairs.length, 2);
  assert.ok(pairs.every((p) => p.group_id === pairs[0].group_id));
}));

test('phone width: no sideways scrolling, rank by taps, skip with a reason', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [h.task('phone-1', ['a', 'b', 'c']), h.task('phone-2', ['a', 'b'])]);
  const url = await server.start();
  await page.setViewportSize({ width: 390, height: 844 });
  await h.login(page, url, token);

  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(await overflow() <= 0, 'the page fits the phone width');
  const first = (await page.textContent('#conversation')).match(/Prompt (phone-\d)/)[1];
  const letters = first === 'phone-1' ? ['c', 'a', 'b'] : ['b', 'a'];
  for (const l of letters) await h.card(page, `Answer ${l} `).locator('.rank-next').click();
  assert.ok(await overflow() <= 0, 'still fits with ranked cards');
  await page.click('#submit-btn');
  await h.waitForAnswerSaved(page, `Prompt ${first}`);

  // The other task is skipped through the dialog.
  await page.click('#skip-btn');
  await page.locator('#skip-dialog label', { hasText: 'unclear' }).click();
  await page.fill('#skip-comment', 'too short to judge');
  await page.click('#skip-confirm');
  await page.locator('#message-view').waitFor({ state: 'visible' });

  const [row] = h.exportRows(ws.db);
  assert.equal(row.prompt_id, first);
  assert.deepEqual(row.tiers, letters.map((l) => [l]));
  assert.equal(h.sqlValue(ws.db, "SELECT reason || ':' || comment FROM skips"), 'unclear_prompt:too short to judge');
}));
