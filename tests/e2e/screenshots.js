// Takes the README screenshots of the labeling page (desktop and phone width) into
// docs/screenshots/. Not a test; run by hand after changing the page:
//   RLHF_BIN=build/app/rlhf node tests/e2e/screenshots.js
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');

const TASK = {
  id: 'demo-1',
  kind: 'helpful',
  conversation: [
    { role: 'user', content: 'I keep missing deadlines at work. How can I get better at managing my time?' },
  ],
  responses: [
    { id: 'a', text: 'Start each day by writing down the three tasks that matter most, and do the hardest one first, before email.\n\nBlock time for focused work in your calendar and treat those blocks like meetings. At the end of the week, look at which deadlines slipped and why: most people find one or two recurring causes.' },
    { id: 'b', text: 'Try the Pomodoro technique: 25 minutes of focused work, then a 5 minute break. After four rounds, take a longer break.' },
    { id: 'c', text: 'Time management was invented by Benjamin Franklin in 1712, and studies show that 97% of people who use a planner never miss a deadline.' },
    { id: 'd', text: 'Just work harder and sleep less. Deadlines are more important than your health.' },
  ],
  target_labels: 3,
};

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const ws = h.makeWorkspace('shots');
  const server = new h.Server(ws.db);
  const token = h.addLabeler(ws.db, 'alice');
  h.importTasks(ws.db, [TASK, { ...TASK, id: 'demo-2' }]);
  const url = await server.start();
  const browser = await h.launchBrowser(path.join(ws.dir, 'profile'), { width: 1280, height: 860 });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    await page.goto(url + '/');
    await page.locator('#login-view').waitFor();
    await page.screenshot({ path: path.join(OUT, 'login.png') });
    await h.login(page, url, token);
    await page.screenshot({ path: path.join(OUT, 'desktop-start.png') });

    // A finished ranking with a tie at the bottom (a > b > c = d), a score and a flag on c.
    await h.card(page, 'Start each day').locator('.rank-next').click();
    await h.card(page, 'Pomodoro').locator('.rank-next').click();
    await h.card(page, 'Franklin').locator('.rank-next').click();
    await h.card(page, 'Just work harder').locator('.rank-next').click();
    await h.card(page, 'Just work harder').locator('.tie-up').click();
    const c = h.card(page, 'Franklin');
    await c.locator('summary').click();
    await c.locator('.likert input[value="2"]').check();
    await c.locator('.flags label', { hasText: 'Makes up facts' }).click();
    await page.fill('#comment', 'The Franklin answer invents a statistic.');
    await h.card(page, 'Pomodoro').focus();
    await page.screenshot({ path: path.join(OUT, 'desktop-ranking.png') });

    await page.keyboard.press('?');
    await page.screenshot({ path: path.join(OUT, 'shortcuts.png') });
    await page.keyboard.press('Escape');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'phone-top.png') });
    // The tied bottom rank with the rating and flags of c open.
    await page.locator('.tier.tied').evaluate((n) => n.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(OUT, 'phone-ranking.png') });

    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(url + '/guidelines');
    await page.screenshot({ path: path.join(OUT, 'guidelines.png') });
    console.log(`screenshots in ${OUT}`);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(ws.dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
