// Model text is shown literally (never run as HTML), and the API only answers the right labeler.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/harness');

const XSS = [
  '<img src=x onerror="window.__xss = 1">',
  '<script>window.__xss = 2</script>',
  '"><svg onload="window.__xss = 3"></svg><b>bold?</b> & &amp; </div>',
];

test('XSS: prompt and response text render literally', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [{
    id: 'xss-1',
    kind: 'harmless',
    conversation: [{ role: 'user', content: '<i>hi</i><img src=y onerror="window.__xss = 4">' },
      { role: 'assistant', content: 'Hello <u>there</u>' },
      { role: 'user', content: 'Say <script>window.__xss = 5</script> something' }],
    responses: XSS.map((text, i) => ({ id: `r${i}`, text })),
  }]);
  const url = await server.start();

  // The page is served with the CSP that forbids inline script.
  const res = await fetch(url + '/');
  assert.match(res.headers.get('content-security-policy') || '', /default-src 'self'/);

  await h.login(page, url, token);
  const texts = await page.$$eval('.card-text', (nodes) => nodes.map((n) => n.textContent));
  assert.deepEqual(texts.slice().sort(), XSS.slice().sort());
  const conversation = await page.$$eval('.turn-text', (nodes) => nodes.map((n) => n.textContent));
  assert.deepEqual(conversation, ['<i>hi</i><img src=y onerror="window.__xss = 4">', 'Hello <u>there</u>',
    'Say <script>window.__xss = 5</script> something']);
  // Nothing became markup.
  const injected = await page.$$eval('#conversation img, #conversation script, #conversation i, #board img, #board script, #board svg, #board .card-text b',
    (nodes) => nodes.length);
  assert.equal(injected, 0);
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined);

  // The text survives the round trip into the export unchanged.
  for (const card of await page.$$('.card')) await (await card.$('.rank-next')).click();
  await page.click('#submit-btn');
  await page.locator('#message-view').waitFor({ state: 'visible' });
  const [row] = h.exportRows(ws.db);
  assert.deepEqual(row.responses.map((r) => r.text).sort(), XSS.slice().sort());
}));

test('auth: no token, bad token, revoked token, another labeler\'s assignment', async (t) => h.withSetup(t, async ({ ws, server, page }) => {
  const alice = h.addLabeler(ws.db, 'alice');
  const bob = h.addLabeler(ws.db, 'bob');
  h.importTasks(ws.db, [h.task('auth-1', ['a', 'b']), h.task('auth-2', ['a', 'b'])]);
  const url = await server.start();
  const call = (method, path, token, body, headers = {}) => fetch(url + '/api/v1' + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });

  // No token: the page shows the login form and the API answers 401.
  await page.goto(url + '/');
  await page.locator('#login-view').waitFor();
  assert.equal(await page.evaluate(async () => (await fetch('/api/v1/me')).status), 401);
  assert.equal((await call('POST', '/tasks/next')).status, 401);

  // A wrong token is refused by the form.
  await page.fill('#token', 'f'.repeat(64));
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: /unknown or revoked/i }).waitFor();

  // Another labeler's assignment: alice has one open; bob can neither see nor answer it.
  const a = (await (await call('POST', '/tasks/next', alice, {})).json()).assignment;
  const tiers = a.responses.map((r) => [r.id]);
  assert.equal((await call('GET', `/assignments/${a.id}`, bob)).status, 404);
  const stolen = await call('POST', `/assignments/${a.id}/submit`, bob, { tiers }, { 'Idempotency-Key': 'bob-steals-0001' });
  assert.equal(stolen.status, 404);
  assert.equal((await call('POST', `/assignments/${a.id}/skip`, bob, { reason: 'other' })).status, 404);
  // Same through bob's browser session (cookie auth, same-origin POST).
  await h.login(page, url, bob);
  const fromPage = await page.evaluate(async ({ id, tiers }) => (await fetch(`/api/v1/assignments/${id}/submit`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'bob-page-00001' },
    body: JSON.stringify({ tiers }),
  })).status, { id: a.id, tiers });
  assert.equal(fromPage, 404);
  assert.equal(h.exportRows(ws.db).length, 0);
  // Alice's assignment is untouched: she gets the same one back.
  assert.equal((await (await call('POST', '/tasks/next', alice, {})).json()).assignment.id, a.id);

  // A POST from a foreign origin is refused even with a valid token.
  const foreign = await call('POST', '/tasks/next', bob, {}, { Origin: 'http://evil.example' });
  assert.equal(foreign.status, 403);

  // Revoked while signed in: bob's ranked answer gets 401, the page asks to sign in again and
  // keeps the answer locally; his token no longer works anywhere.
  await page.locator('.card').first().waitFor();
  for (const card of await page.$$('.card')) await (await card.$('.rank-next')).click();
  h.revokeLabeler(ws.db, 'bob');
  await page.click('#submit-btn');
  await page.locator('#login-view').waitFor({ state: 'visible' });
  const kept = await page.evaluate(() => Object.keys(localStorage)
    .filter((k) => k.startsWith('rlhf.draft.v1.bob.'))
    .map((k) => JSON.parse(localStorage.getItem(k)))
    .filter((d) => d.pending).length);
  assert.equal(kept, 1, 'the unsent answer stays on the device');
  await page.fill('#token', bob);
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: /unknown or revoked/i }).waitFor();
  assert.equal((await call('GET', '/me', bob)).status, 401);
  assert.equal((await call('GET', '/me', alice)).status, 200);
  assert.equal(h.exportRows(ws.db).length, 0, 'nothing from bob after the revocation');
}));
