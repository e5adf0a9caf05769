// The dashboard page: fetches the history once, then follows /api/events (server-sent events, one a
// second) and redraws the host bars, the rank table, the task table and four uPlot charts.

const $ = (id) => document.getElementById(id);
const fmtBytes = (b) => {
  if (!b || b < 1) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log(b) / Math.log(1024)));
  return `${(b / 1024 ** i).toFixed(i ? 1 : 0)} ${u[i]}`;
};

// The value axis is as wide as its longest label: a fixed width cut "855.7 MiB" to "5.7 MiB" on the
// left, and the axis seemed to read a few MiB (uPlot's axis-autosize recipe).
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap + 4;
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), '');
  if (longest !== '') {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  // Never narrower than the left half of the x axis's first label, which is centred on its tick.
  return Math.max(48, Math.ceil(size));
}

// The time axis: one line of HH:MM:SS (the window is 15 minutes; uPlot's default adds a date line).
const timeLabel = (t) => new Date(t * 1000).toTimeString().slice(0, 8);
const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

const series = { t: [], cpu: [], mem: [], tasks: [], coll: [] };
const charts = {};

// uPlot's height is its plot with axes; the title sits above it. Sizing the plot to the whole cell pushed
// the x axis (time and date) past the cell, over the next chart's title, and gave the panel scroll bars.
function chartSize(el) {
  const title = el.querySelector('.u-title');
  return {
    width: Math.max(160, el.clientWidth),
    height: Math.max(80, el.clientHeight - (title ? title.offsetHeight : 20)),
  };
}

function makeChart(id, label, color, fmt) {
  const el = $(id);
  const opts = {
    title: label,
    ...chartSize(el),
    legend: { show: false },
    scales: { x: { time: true } },
    axes: [
      { space: 70, values: (_u, vals) => vals.map(timeLabel) },
      { size: axisSize, values: (_u, vals) => vals.map((v) => fmt(v)) },
    ],
    series: [{}, { label, stroke: color, fill: `${color}22`, width: 1.5 }],
  };
  const u = new uPlot(opts, [[], []], el);
  u.setSize(chartSize(el)); // now with its title's real height
  return u;
}

function initCharts() {
  charts.cpu = makeChart('chart-cpu', 'host CPU %', '#4c8bf5', (v) => `${v.toFixed(0)}%`);
  charts.mem = makeChart('chart-mem', 'host memory used', '#9b6ef3', fmtBytes);
  charts.tasks = makeChart('chart-tasks', 'tasks finished / s', '#17803d', (v) => v.toFixed(0));
  charts.coll = makeChart('chart-coll', 'collective bytes / s', '#e8710a', (v) => `${fmtBytes(v)}/s`);
  const resize = () => {
    for (const [k, c] of Object.entries(charts)) c.setSize(chartSize($(`chart-${k}`)));
  };
  window.addEventListener('resize', resize);
  // Readable from outside (the browser test checks the axes).
  window.tsrunCharts = charts;
}

function addSample(s) {
  series.t.push(s.t);
  series.cpu.push(s.cpuPercent);
  series.mem.push(s.memUsedBytes);
  series.tasks.push(s.tasksPerSec);
  series.coll.push(s.collectiveBytesPerSec);
  // The server keeps 15 minutes; so does the page.
  if (series.t.length > 900) for (const k of Object.keys(series)) series[k].shift();
}

function drawCharts() {
  charts.cpu.setData([series.t, series.cpu]);
  charts.mem.setData([series.t, series.mem]);
  charts.tasks.setData([series.t, series.tasks]);
  charts.coll.setData([series.t, series.coll]);
  // Points and peak per chart, readable from outside (tests, and a quick look in the inspector).
  for (const k of ['cpu', 'mem', 'tasks', 'coll']) {
    const el = $(`chart-${k}`);
    el.dataset.points = String(series.t.length);
    el.dataset.peak = String(Math.max(0, ...series[k]));
  }
}

function bar(cls, pct, text) {
  const w = Math.max(0, Math.min(100, pct));
  return `<div class="bar ${cls}"><span style="width:${w}%"></span><em>${esc(text)}</em></div>`;
}

function storeBar(s) {
  if (!s) return '';
  const pct = (100 * s.inMemoryBytes) / (s.limitBytes || 1);
  return bar(
    'store',
    pct,
    `object store ${fmtBytes(s.inMemoryBytes)} in memory of ${fmtBytes(s.limitBytes)} · ${fmtBytes(s.spilledBytes)} spilled`,
  );
}

const cell = (v) => `<td>${v === undefined || v === null ? '' : esc(v)}</td>`;

function drawCluster(st) {
  $('cluster-only').hidden = !st.actors && !st.jobs;
  if (st.jobs)
    $('jobs').tBodies[0].innerHTML = st.jobs
      .slice()
      .reverse()
      .map(
        (j) =>
          `<tr class="job-row">${cell(j.id)}<td class="job-${esc(j.state.split(' ')[0])}">${esc(j.state)}</td><td class="clip" title="${esc(j.entrypoint)}">${esc(j.entrypoint)}</td>${cell(j.submittedAt.slice(11, 19))}</tr>`,
      )
      .join('');
  if (st.actors)
    $('actors').tBodies[0].innerHTML = st.actors
      .map(
        (a) =>
          `<tr class="actor-row">${cell(a.cls)}${cell(a.name)}<td class="actor-${esc(a.state)}">${esc(a.state)}</td>${cell(a.restarts)}${cell(a.host)}${cell(a.pid)}${cell(a.callsFinished)}</tr>`,
      )
      .join('');
}

function drawState(st) {
  const stores = new Map((st.objectStores || []).map((s) => [s.host, s]));
  $('hosts').innerHTML = st.nodes
    .map(
      (n) => `<div class="host"><b>${esc(n.host)}</b> · ${n.processes.length} processes
      ${bar('cpu', n.cpuPercent, `CPU ${n.cpuPercent.toFixed(0)}%`)}
      ${bar('mem', (100 * n.memUsedBytes) / (n.memTotalBytes || 1), `memory ${fmtBytes(n.memUsedBytes)} of ${fmtBytes(n.memTotalBytes)}`)}
      ${storeBar(stores.get(n.host))}</div>`,
    )
    .join('');
  drawCluster(st);
  const procs = [];
  for (const n of st.nodes) for (const p of n.processes) procs.push({ ...p, host: n.host });
  // Host and pid together: two hosts of an SSH job or a cluster may use the same pid.
  const byPid = new Map(procs.map((p) => [`${p.host}|${p.pid}`, p]));
  const rows = st.ranks.map((r) => {
    const p = byPid.get(`${r.host}|${r.pid}`) || {};
    byPid.delete(`${r.host}|${r.pid}`);
    const exit = r.state === 'failed' || r.state === 'exited' ? ` (${r.signal || `code ${r.exitCode}`})` : '';
    return {
      rank: r.rank,
      role: p.role || 'rank',
      host: r.host,
      pid: r.pid,
      state: r.state + exit,
      cls: r.state,
      cpu: p.cpuPercent,
      rss: p.rssBytes,
    };
  });
  for (const p of byPid.values())
    rows.push({
      rank: p.rank ?? '',
      role: p.role,
      host: p.host,
      pid: p.pid,
      state: p.state,
      cls: p.state,
      cpu: p.cpuPercent,
      rss: p.rssBytes,
    });
  $('ranks').tBodies[0].innerHTML = rows
    .map(
      (
        r,
      ) => `<tr class="proc-row"><td>${esc(r.rank)}</td><td>${esc(r.role)}</td><td>${esc(r.host)}</td><td>${r.pid}</td>
      <td class="state-${esc(r.cls)}">${esc(r.state)}</td><td>${r.cpu === undefined ? '' : `${r.cpu.toFixed(0)}%`}</td>
      <td>${r.rss === undefined ? '' : fmtBytes(r.rss)}</td></tr>`,
    )
    .join('');
  const t = st.tasks;
  $('task-totals').textContent =
    `· queued ${t.queued} · running ${t.running} · finished ${t.finished} · failed ${t.failed}`;
  $('tasks').tBodies[0].innerHTML = Object.entries(t.byFunction)
    .map(
      ([name, f]) =>
        `<tr><td>${esc(name)}</td><td>${f.finished}</td><td>${f.failed}</td><td>${f.meanSeconds.toFixed(4)}</td></tr>`,
    )
    .join('');
  const c = st.collectives;
  $('collectives').textContent =
    `${c.ops} calls · ${fmtBytes(c.bytes)} sent · ${c.secondsInCollectives.toFixed(2)} s inside collectives`;
  $('summary').textContent =
    `${st.ranks.length} ranks · ${st.nodes.length} host${st.nodes.length === 1 ? '' : 's'}`;
  const sel = $('log-rank');
  const want = st.ranks.map((r) => String(r.rank)).join(',');
  if (sel.dataset.ranks !== want) {
    const keep = sel.value;
    sel.innerHTML = st.ranks.map((r) => `<option>${r.rank}</option>`).join('');
    if (keep) sel.value = keep;
    sel.dataset.ranks = want;
  }
}

async function refreshLog() {
  const rank = $('log-rank').value;
  if (rank === '') return;
  const res = await fetch(`api/logs?rank=${rank}&tail=200`);
  if (!res.ok) return;
  const body = await res.json();
  const el = $('log');
  const atEnd =
    el.parentElement.scrollTop + el.parentElement.clientHeight >= el.parentElement.scrollHeight - 4;
  el.textContent = body.lines.join('\n');
  if (atEnd) el.parentElement.scrollTop = el.parentElement.scrollHeight;
}

async function main() {
  initCharts();
  fetch('api/title')
    .then((r) => r.json())
    .then((b) => {
      $('title').textContent = b.title;
      document.title = `tsrun · ${b.title}`;
    });
  const [history, state] = await Promise.all([
    fetch('api/history').then((r) => r.json()),
    fetch('api/state').then((r) => r.json()),
  ]);
  for (const s of history) addSample(s);
  drawCharts();
  drawState(state);
  refreshLog();
  $('log-rank').addEventListener('change', refreshLog);
  const events = new EventSource('api/events');
  events.onopen = () => {
    $('conn').textContent = 'live';
    $('conn').className = 'conn live';
  };
  events.onerror = () => {
    $('conn').textContent = 'disconnected (the job may have ended)';
    $('conn').className = 'conn';
  };
  let lastT = series.t[series.t.length - 1];
  events.onmessage = (e) => {
    const { state: st, sample } = JSON.parse(e.data);
    if (sample && sample.t !== lastT) {
      addSample(sample);
      lastT = sample.t;
      drawCharts();
    }
    drawState(st);
  };
  setInterval(refreshLog, 2000);
}

main();
