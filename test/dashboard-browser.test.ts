// The dashboard page in a real browser (Debian's chromium driven by playwright-core) at 1280x800: open the
// page of a running `--pool` job, see the worker rows and a chart with data; open a cluster's page, see
// its actors table, a submitted job and the object store; save screenshots in the test's folder.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { startDashboardJob } from './fixtures/dashboard/job.js';
import { runTsrun as tsrun } from './helpers/ssh-tsrun.js';

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

const VIEWPORT = { width: 1280, height: 800 };

async function openPage(t: Test, browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  t.teardown(() => page.close());
  return { page, errors };
}

/** What a screenshot of the 1280x800 page showed wrong: scroll bars on the charts, cut axes, overlaps. */
async function checkLayout(t: Test, page: Page): Promise<void> {
  const charts = await page.evaluate(`(() => {
    const c = document.getElementById('charts');
    return { scrollH: c.scrollHeight, clientH: c.clientHeight, scrollW: c.scrollWidth, clientW: c.clientWidth };
  })()`);
  const c = charts as { scrollH: number; clientH: number; scrollW: number; clientW: number };
  t.ok(
    c.scrollH <= c.clientH && c.scrollW <= c.clientW,
    `the chart panel has nothing to scroll (${JSON.stringify(c)})`,
  );
  // Each chart (title, plot and its time axis) ends inside its own cell, above the next chart's title.
  const overflow = await page.evaluate(`[...document.querySelectorAll('.chart')].filter((el) => {
    const u = el.querySelector('.uplot');
    return u && u.getBoundingClientRect().bottom > el.getBoundingClientRect().bottom + 0.5;
  }).map((el) => el.id)`);
  t.same(overflow, [], 'no chart reaches past its cell');
  // The memory axis is wide enough for its longest label (a fixed width cut "855.7 MiB" to "5.7 MiB").
  const axis = (await page.evaluate(`(() => {
    const u = window.tsrunCharts.mem;
    const a = u.axes[1];
    const labels = a._values || [];
    u.ctx.font = a.font[0];
    const widest = Math.max(0, ...labels.map((v) => u.ctx.measureText(v).width / devicePixelRatio));
    return { labels, widest: widest + a.ticks.size + a.gap, size: a._size };
  })()`)) as { labels: string[]; widest: number; size: number };
  t.ok(
    axis.size >= axis.widest, // label, tick and gap
    `memory axis labels fit (${axis.labels.join(', ')}: ${axis.widest} px in ${axis.size})`,
  );
}

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
    const { page, errors } = await openPage(t, browser, job.url);

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
    t.ok(noScroll, 'fits a 1280x800 laptop screen without scrolling');
    t.equal(
      await page.locator('#cluster-only').isVisible(),
      false,
      'no actors or jobs tables for a --pool job',
    );
    await checkLayout(t, page);
    const shot = join(outDir, 'dashboard.png');
    await page.screenshot({ path: shot });
    t.ok(existsSync(shot), `screenshot saved as ${shot}`);
    if (process.env.TSRUN_DASHBOARD_SCREENSHOT)
      await page.screenshot({ path: process.env.TSRUN_DASHBOARD_SCREENSHOT });
    t.same(errors, [], 'no script errors on the page');
    await job.stop();
  },
);

t.test(
  'a cluster’s page shows its actors, jobs and object store',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} missing` },
  async (t) => {
    t.saveFixture = true;
    const outDir = t.testdir({});
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-dash-cluster-'));
    const env = { TSRUN_CLUSTER_DIR: dir, TSRUN_POOL_ADDRESS: '', TSRUN_POOL_SECRET: '' };
    const gate = join(dir, 'gate');
    t.teardown(async () => {
      writeFileSync(gate, '');
      await tsrun(['cluster', 'stop'], env);
      rmSync(dir, { recursive: true, force: true });
    });
    const head = await tsrun(
      ['cluster', 'start', '--head', '--port', '0', '--workers', '2', '--dashboard-port', '0'],
      env,
    );
    t.equal(head.code, 0, head.stderr);
    const url = /dashboard at (http:\/\/\S+)/.exec(head.stdout)?.[1] ?? '';
    const submit = await tsrun(
      ['job', 'submit', '--', 'test/fixtures/pool/job-driver.ts', 'actor', gate],
      env,
    );
    t.equal(submit.code, 0, submit.stderr);
    const id = submit.stdout.trim();

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    t.teardown(() => browser.close());
    const { page, errors } = await openPage(t, browser, url);
    const wait = (expr: string, timeout = 90_000) => page.waitForFunction(expr, undefined, { timeout });
    await wait(
      `[...document.querySelectorAll('#jobs tbody tr')].some((r) => r.textContent.includes('${id}'))`,
    );
    t.match(await page.locator('#jobs tbody tr', { hasText: id }).textContent(), /RUNNING/, 'the job runs');
    // Constructed, three incr calls and one filled: the actor's calls show as they finish.
    await wait(
      "[...document.querySelectorAll('#actors tbody tr')].some((r) => r.cells[1].textContent === 'dash-counter' && Number(r.cells[6].textContent) >= 4)",
    );
    const row = await page
      .locator('#actors tbody tr', { hasText: 'dash-counter' })
      .locator('td')
      .allTextContents();
    t.equal(row[0], 'Counter', 'class');
    t.equal(row[2], 'ALIVE', 'state');
    t.equal(row[3], '0', 'restarts');
    t.ok(row[4].length > 0 && Number(row[5]) > 0, `host and pid (${row[4]}, ${row[5]})`);
    // The 2 MiB result lives in the actor's worker's store.
    await wait(
      "/object store [1-9][0-9.]* MiB in memory of/.test(document.getElementById('hosts').textContent)",
    );
    t.match(await page.locator('#hosts').textContent(), /object store .* in memory of .* · .* spilled/);
    await checkLayout(t, page);
    const panel = await page.evaluate(
      "(() => { const p = document.getElementById('tasks-panel'); return p.scrollWidth <= p.clientWidth; })()",
    );
    t.ok(panel, 'the jobs and actors tables fit their panel’s width');
    await page.screenshot({ path: join(outDir, 'cluster.png') });
    if (process.env.TSRUN_DASHBOARD_CLUSTER_SCREENSHOT)
      await page.screenshot({ path: process.env.TSRUN_DASHBOARD_CLUSTER_SCREENSHOT });
    writeFileSync(gate, '');
    await wait(
      `[...document.querySelectorAll('#jobs tbody tr')].some((r) => r.textContent.includes('${id}') && r.textContent.includes('SUCCEEDED'))`,
    );
    t.pass('the job shows SUCCEEDED once its driver returns');
    t.same(errors, [], 'no script errors on the page');
  },
);
