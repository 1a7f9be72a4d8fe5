// Shared helpers for the browser tests: a real `rlhf serve` per test on a fresh database, the
// `rlhf` admin commands, Debian's headless chromium through playwright-core, and a screenshot
// in tests/e2e/artifacts/ when a test fails.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { chromium } = require('playwright-core');

const RLHF_BIN = process.env.RLHF_BIN;
if (!RLHF_BIN) throw new Error('set RLHF_BIN to the rlhf binary (tests/e2e/run.sh does)');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', 'artifacts');

function rlhf(args, opts = {}) {
  return execFileSync(RLHF_BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

// A scratch directory with the database; removed by cleanup().
function makeWorkspace(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rlhf-e2e-${name}-`));
  return { dir, db: path.join(dir, 'labels.db') };
}

// `rlhf labelers add` prints the token once; it is the only 64-hex-digit word in the output.
function addLabeler(db, name, { admin = false } = {}) {
  const out = rlhf(['labelers', 'add', '--db', db, '--name', name, ...(admin ? ['--admin'] : [])]);
  const m = out.match(/\b[0-9a-f]{64}\b/);
  if (!m) throw new Error(`no token in the output of rlhf labelers add: ${out}`);
  return m[0];
}

function revokeLabeler(db, name) {
  rlhf(['labelers', 'revoke', '--db', db, '--name', name]);
}

// Imports tasks given as objects (one JSONL line each).
function importTasks(db, tasks) {
  const file = path.join(path.dirname(db), `import-${Date.now()}-${Math.random().toString(16).slice(2)}.jsonl`);
  fs.writeFileSync(file, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
  rlhf(['labeling', 'import', '--db', db, '--file', file]);
}

function exportRows(db, format = 'rankings') {
  const file = path.join(path.dirname(db), `export-${format}-${Date.now()}.jsonl`);
  rlhf(['labeling', 'export', '--db', db, '--format', format, '--out', file]);
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// Runs one SQL query with the sqlite3 shell (read-only) and returns its single value.
function sqlValue(db, sql) {
  return execFileSync('sqlite3', ['-readonly', db, sql], { encoding: 'utf8' }).trim();
}

// A task with K responses whose ids are the given letters and whose texts are recognisable.
function task(id, letters, extra = {}) {
  return {
    id,
    kind: 'helpful',
    prompt: `Prompt ${id}: explain something useful.`,
    responses: letters.map((l) => ({ id: l, text: `Answer ${l} to ${id}.`, model: 'test-model' })),
    target_labels: 3,
    ...extra,
  };
}

class Server {
  constructor(db) {
    this.db = db;
    this.proc = null;
    this.url = null;
    this.port = 0;
    this.log = [];
  }

  // Starts `rlhf serve` (port 0 the first time, the same port on a restart so the page's origin
  // stays the same) and waits for its "listening on http://HOST:PORT" line.
  async start() {
    const proc = spawn(RLHF_BIN, ['serve', '--db', this.db, '--host', '127.0.0.1', '--port', String(this.port)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr.on('data', (d) => this.log.push(d.toString()));
    const lines = readline.createInterface({ input: proc.stdout });
    this.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rlhf serve did not report its address:\n${this.log.join('')}`)), 15000);
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`rlhf serve exited early (${code ?? signal}):\n${this.log.join('')}`));
      });
      lines.on('line', (line) => {
        this.log.push(line + '\n');
        const m = line.match(/listening on (http:\/\/[^\s/]+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    });
    this.port = Number(new URL(this.url).port);
    return this.url;
  }

  // SIGKILL: no chance to flush or clean up, like a power cut of the process.
  async kill() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGKILL');
    await exited;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

async function launchBrowser(userDataDir, viewport = { width: 1280, height: 900 }) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Everything one test needs: workspace, server, browser (fresh user-data-dir), page; on failure
// a screenshot and the server log go to tests/e2e/artifacts/<test name>.*
async function withSetup(t, fn) {
  const ws = makeWorkspace(t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40));
  const server = new Server(ws.db);
  const ctx = { ws, server, browser: null, page: null };
  ctx.browser = await launchBrowser(path.join(ws.dir, 'chromium-profile'));
  ctx.page = ctx.browser.pages()[0] || await ctx.browser.newPage();
  // Uncaught exceptions and CSP violations ("Refused to ...") fail the test even if the rest passed.
  ctx.pageErrors = [];
  const watch = (page) => {
    page.on('pageerror', (e) => ctx.pageErrors.push(e.message));
    page.on('console', (m) => { if (/Refused to|Content Security Policy/i.test(m.text())) ctx.pageErrors.push(m.text()); });
  };
  watch(ctx.page);
  ctx.browser.on('page', watch);
  try {
    await fn(ctx);
    if (ctx.pageErrors.length) throw new Error(`errors in the page:\n${ctx.pageErrors.join('\n')}`);
  } catch (err) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const base = path.join(ARTIFACTS, t.name.replace(/[^a-z0-9]+/gi, '_'));
    for (const page of ctx.browser.pages()) {
      try { await page.screenshot({ path: `${base}.png`, fullPage: true }); break; } catch (e) { /* page gone */ }
    }
    fs.writeFileSync(`${base}.server.log`, server.log.join(''));
    throw err;
  } finally {
    await ctx.browser.close().catch(() => {});
    await server.stop().catch(() => {});
    fs.rmSync(ws.dir, { recursive: true, force: true });
  }
}

// Signs in through the page's login form.
async function login(page, url, token) {
  await page.goto(url + '/');
  await page.locator('#login-view').waitFor();
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.locator('#task-view:not([hidden]), #message-view:not([hidden])').waitFor();
}

// The card showing the response whose text contains `text`.
function card(page, text) {
  return page.locator('.card').filter({ has: page.locator('.card-text', { hasText: text }) });
}

// A real mouse drag: press on the card's header, move in steps, release over the target.
async function drag(page, source, target) {
  const from = await source.locator('.letter').boundingBox();
  await target.scrollIntoViewIfNeeded();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  const to = await target.boundingBox();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
}

// Shown order of the current assignment as response texts' letters (from the page).
async function shownIds(page) {
  return page.$$eval('.card', (cards) => cards.map((c) => Number(c.dataset.id)));
}

// Waits until the page has moved past the current assignment (next task or "no tasks left").
async function waitForAnswerSaved(page, previousPromptText) {
  await page.waitForFunction((prev) => {
    const msg = document.getElementById('message-view');
    if (msg && !msg.hidden) return true;
    const conv = document.getElementById('conversation');
    const task = document.getElementById('task-view');
    return task && !task.hidden && conv && !conv.textContent.includes(prev);
  }, previousPromptText, { timeout: 30000 });
}

// Tiers with every tier sorted, so ties compare regardless of order inside a tier.
const normTiers = (tiers) => tiers.map((t) => t.slice().sort());

module.exports = {
  rlhf, makeWorkspace, addLabeler, revokeLabeler, importTasks, exportRows, sqlValue, task, Server,
  launchBrowser, withSetup, login, card, drag, shownIds, waitForAnswerSaved, normTiers,
};
