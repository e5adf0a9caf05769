/**
 * The dashboard's HTTP server: the page and its assets (uPlot served from node_modules, no build step),
 * `GET /api/state` (contract), `GET /api/history`, `GET /api/logs?rank=N&tail=200`, and `GET /api/events`,
 * a server-sent-event stream of `{ state, sample }` once a second. Read-only: nothing here changes the job.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardState, HistorySample } from '../telemetry/state-types.js';
import { cookieValue, dashboardToken, isLoopback, sameToken, TOKEN_COOKIE } from './access-token.js';
import { DashboardPortError } from './errors.js';

export interface DashboardSource {
  state(): DashboardState;
  samples(): HistorySample[];
  logs(rank: number, tail: number): string[] | undefined;
  subscribe(cb: (s: DashboardState, h: HistorySample) => void): () => void;
}

export interface DashboardOptions {
  port: number;
  /** Bind address; default 127.0.0.1. Anything else requires the token. */
  host?: string;
  /** Job or cluster secret the token is derived from (required off loopback). */
  secret: string;
  /** Shown in the page title, e.g. "tsrun --pool job" or "tsrun cluster". */
  title: string;
}

export interface Dashboard {
  /** The URL to open (with the token when one is needed). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot')), '.');
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(PAGE_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: join(PAGE_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.js': { file: join(UPLOT_DIR, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/uPlot.css': { file: join(UPLOT_DIR, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};
const MAX_TAIL = 2000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export async function startDashboard(source: DashboardSource, o: DashboardOptions): Promise<Dashboard> {
  const host = o.host ?? '127.0.0.1';
  const needToken = !isLoopback(host);
  const token = dashboardToken(o.secret);
  const streams = new Set<ServerResponse>();

  const allowed = (req: IncomingMessage, url: URL, res: ServerResponse): boolean => {
    if (!needToken) return true;
    const q = url.searchParams.get('token') ?? undefined;
    if (sameToken(q, token)) {
      res.setHeader('set-cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      return true;
    }
    return sameToken(cookieValue(req.headers.cookie, TOKEN_COOKIE), token);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `${req.method} is not supported: the dashboard is read-only` });
      return;
    }
    if (!allowed(req, url, res)) {
      sendJson(res, 401, {
        error:
          'this dashboard listens off loopback and needs its token: open the URL tsrun printed at start-up ' +
          '(it ends in ?token=...)',
      });
      return;
    }
    const asset = ASSETS[url.pathname] ?? (url.pathname === '/index.html' ? ASSETS['/'] : undefined);
    if (asset) {
      const body = await readFile(asset.file);
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      res.end(body);
      return;
    }
    switch (url.pathname) {
      case '/api/state':
        sendJson(res, 200, source.state());
        return;
      case '/api/history':
        sendJson(res, 200, source.samples());
        return;
      case '/api/logs': {
        const rank = Number(url.searchParams.get('rank'));
        const tail = Number(url.searchParams.get('tail') ?? 200);
        if (!Number.isInteger(rank) || rank < 0 || url.searchParams.get('rank') === null) {
          sendJson(res, 400, { error: 'give the rank: /api/logs?rank=N&tail=200 (N an integer >= 0)' });
          return;
        }
        if (!Number.isInteger(tail) || tail < 1) {
          sendJson(res, 400, {
            error: `tail must be an integer >= 1, got '${url.searchParams.get('tail')}'`,
          });
          return;
        }
        const lines = source.logs(rank, Math.min(tail, MAX_TAIL));
        if (!lines) {
          sendJson(res, 404, { error: `no rank ${rank} in this job (see /api/state for the ranks)` });
          return;
        }
        sendJson(res, 200, { rank, lines });
        return;
      }
      case '/api/events': {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(': tsrun dashboard\n\n');
        streams.add(res);
        const off = source.subscribe((state, sample) => {
          res.write(`data: ${JSON.stringify({ state, sample })}\n\n`);
        });
        req.on('close', () => {
          off();
          streams.delete(res);
        });
        return;
      }
      case '/api/title':
        sendJson(res, 200, { title: o.title });
        return;
    }
    sendJson(res, 404, { error: `no such page: ${url.pathname}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: e.message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new DashboardPortError(host, o.port, e)));
    server.listen({ port: o.port, host }, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  // A wildcard bind is reached by the host's name, not by 0.0.0.0.
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host;
  const shown = name.includes(':') ? `[${name}]` : name;
  const url = `http://${shown}:${port}/${needToken ? `?token=${token}` : ''}`;
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
