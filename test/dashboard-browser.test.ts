// The dashboard page in a real browser (Debian's chromium driven by playwright-core): open the page of a
// running `--pool` job, see the worker rows and a chart with data, save a screenshot in the test's folder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { startDashboardJob } from './fixtures/dashboard/job.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

t.test(
  'the page shows worker rows and live charts',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} missing` },
  async (t) => {
    t.saveFixture = true;
    const outDir = t.testdir({});
    const job = await startDashboardJob(['--pool', '--nproc-per-node', '3'], 'driver.ts');
    t.teardown(() => void job.proc.kill('SIGKILL'));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(job.url);

    // Page-side checks are strings: they run in the browser, and the project's tsconfig has no DOM types.
    const wait = (expr: string, timeout = 40_000) => page.waitForFunction(expr, undefined, { timeout });
    await wait(
      "[...document.querySelectorAll('#ranks tbody tr')].filter((r) => r.textContent.includes('worker')).length === 2",
    );
    t.equal(await page.locator('#ranks tbody tr').count(), 3, 'driver and two workers');
    await wait("/finished [1-9]/.test(document.getElementById('task-totals').textContent)");
    // The tasks chart has data once samples with tasks finishing arrived over the event stream.
    await wait(
      "Number(document.getElementById('chart-tasks').dataset.points) >= 3 && " +
        "Number(document.getElementById('chart-tasks').dataset.peak) > 0",
    );
    t.equal(await page.locator('.chart canvas').count(), 4, 'four charts drawn');
    t.match(await page.locator('#conn').textContent(), /live/);
    t.match(await page.locator('#tasks').textContent(), /tasks\.ts#spin/);
    await wait("document.getElementById('log').textContent.includes('round')", 20_000);
    const noScroll = await page.evaluate(
      'document.documentElement.scrollHeight <= window.innerHeight + 1 && ' +
        "document.getElementById('log').getBoundingClientRect().top < window.innerHeight",
    );
    t.ok(noScroll, 'fits a 1366x768 laptop screen without scrolling');
    const shot = join(outDir, 'dashboard.png');
    await page.screenshot({ path: shot });
    t.ok(existsSync(shot), `screenshot saved as ${shot}`);
    if (process.env.TSRUN_DASHBOARD_SCREENSHOT)
      await page.screenshot({ path: process.env.TSRUN_DASHBOARD_SCREENSHOT });
    t.same(errors, [], 'no script errors on the page');
    await job.stop();
  },
);
