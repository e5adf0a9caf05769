/**
 * Who may read the dashboard. On loopback everyone on this host may (as with the rendezvous port). Off
 * loopback the first URL must carry `?token=T`, after which a cookie carries it. T is derived from the
 * job / cluster secret, so whoever holds the secret can compute it, and the printed URL does not reveal
 * the secret itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'tsrun_dashboard';

export function dashboardToken(secret: string): string {
  return createHash('sha256').update(`tsrun-dashboard\0${secret}`).digest('hex').slice(0, 32);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function sameToken(given: string | undefined, want: string): boolean {
  if (given === undefined || given.length !== want.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(want));
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
