import { MaintenancePage } from './maintenance-page.tsx';
import type { Mode } from '../domain/vocabulary.ts';
import { createLogger } from '../log.ts';
import { signBypass, verifyBypass } from './bypass.ts';
import { allowList } from './cidr.ts';

/** What a gate knows about its role right now. */
export interface GateState {
  readonly mode: Mode;
  /** When the restriction should end (HTTP Retry-After), if known. */
  readonly retryAfter: string | null;
  /** Why (the sources' titles), for the maintenance page. */
  readonly reason: string | null;
  /** True when the gate has lost Herald and is acting on the last mode it knew. */
  readonly stale: boolean;
  /** Seconds after which a browser should reload the maintenance page (Refresh), if asked. */
  readonly refresh?: number | null;
}

/** Where a gate learns its role's mode: a ModeClient, or the app's own snapshot in-process. */
export interface ModeSource {
  state(role: string): GateState;
}

export interface GateOptions {
  readonly role: string;
  readonly modes: ModeSource;
  /** Named in refusals: "… For more information, visit <statusPageUrl>". */
  readonly statusPageUrl: string;
  readonly siteName?: string;
  /** Paths that always pass (health checks): exact strings, or prefixes ending in `*`. */
  readonly allowPaths?: readonly string[];
  /** Client addresses that always pass: IPs or CIDR ranges (v4 and v6). */
  readonly allowIps?: readonly string[];
  /** Operator bypass: visiting `/<secret>` (or `path`) grants a signed cookie valid `ttlSeconds`. */
  readonly bypass?: { readonly secret: string; readonly path?: string; readonly ttlSeconds?: number };
  /** A page to serve browsers instead of the built-in one (fetched, cached, fallback on failure). */
  readonly maintenancePageUrl?: string;
  /**
   * Where the gate's log lines go, one at a time (default: console.error). They are Herald's
   * one log format (src/log.ts): `level=… msg=…` first; a refusal then carries the fields of
   * Heroku's router, `code=H80 desc=… method=… path=… host=… fwd=… role=… status=503`.
   */
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

export const MODE_HEADER = 'Platform-Mode';
const BYPASS_COOKIE = 'herald_bypass';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GateRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly ip: string | undefined;
}

export type Decision =
  | { readonly action: 'pass'; readonly headers: Record<string, string> }
  | { readonly action: 'respond'; readonly response: Response };

function cookie(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Prefers HTML only when the client ranks it above JSON (a browser navigating), as Accept says. */
export function prefersHtml(accept: string | null): boolean {
  if (!accept) return false;
  let html = -1;
  let json = -1;
  for (const part of accept.toLowerCase().split(',')) {
    const [type = '', ...params] = part.trim().split(';');
    const q = Number(params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean) ?? 1);
    if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, q);
    if (type === 'application/json' || type.endsWith('+json')) json = Math.max(json, q);
  }
  return html > 0 && html >= json;
}

/**
 * The gate's decision for one request, shared by the Hono middleware and the reverse proxy:
 * pass (with the mode header), or a finished response (a refusal, or the bypass grant).
 */
export function createGate(options: GateOptions) {
  const siteName = options.siteName ?? 'The API';
  const now = options.now ?? (() => new Date());
  const log = createLogger(options.log ?? ((line: string) => console.error(line)));
  const ipAllowed = allowList(options.allowIps ?? []);
  const allowPaths = options.allowPaths ?? [];
  const bypassPath = options.bypass ? (options.bypass.path ?? `/${options.bypass.secret}`) : undefined;
  const bypassTtl = options.bypass?.ttlSeconds ?? 12 * 3600;
  let customPage: { html: string; fetchedAt: number } | undefined;
  let pageFetch: Promise<void> | undefined;
  let pageFailedAt = -Infinity;
  let lastStale = false;

  const pathAllowed = (path: string) => allowPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));

  async function maintenanceHtml(state: GateState): Promise<string> {
    if (options.maintenancePageUrl) {
      const t = now().getTime();
      const fresh = customPage && t - customPage.fetchedAt < 60_000;
      // one fetch at a time, and after a failure wait 30 s before trying again
      if (!fresh && !pageFetch && t - pageFailedAt >= 30_000) {
        const url = options.maintenancePageUrl;
        pageFetch = (async () => {
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
            if (!res.ok) throw new Error(`status ${res.status}`);
            customPage = { html: await res.text(), fetchedAt: now().getTime() };
          } catch (error) {
            pageFailedAt = now().getTime();
            log.warn('maintenance page fetch failed; using the built-in page', { url, error: String(error) });
          } finally {
            pageFetch = undefined;
          }
        })();
      }
      if (pageFetch && !customPage) await pageFetch;
      if (customPage) return customPage.html;
    }
    const page = MaintenancePage({ siteName, statusUrl: options.statusPageUrl, until: state.retryAfter, reason: state.reason });
    return `<!DOCTYPE html>${String(page)}`;
  }

  /**
   * The common case without awaiting anything: the mode lets this method through, the path is
   * not the bypass path, and there is no change of contact with Herald to log. Returns the mode
   * to put in the header, or undefined when the full `decide` must run.
   */
  function passesAs(method: string, path: string): Mode | undefined {
    const state = options.modes.state(options.role);
    if (state.stale !== lastStale || (bypassPath !== undefined && path === bypassPath)) return undefined;
    return state.mode === 'full' || (state.mode === 'read_only' && SAFE.has(method)) ? state.mode : undefined;
  }

  return Object.assign(decide, { passesAs });

  async function decide(req: GateRequest): Promise<Decision> {
    const state = options.modes.state(options.role);
    if (state.stale !== lastStale) {
      lastStale = state.stale;
      if (state.stale) log.warn('lost contact with Herald; keeping the last known mode', { role: options.role, mode: state.mode });
      else log.info('in contact with Herald again', { role: options.role, mode: state.mode });
    }
    const modeHeaders = { [MODE_HEADER]: state.mode };
    const path = req.url.pathname;

    if (bypassPath && options.bypass && path === bypassPath && SAFE.has(req.method)) {
      const value = await signBypass(options.bypass.secret, new Date(now().getTime() + bypassTtl * 1000));
      const secure = req.url.protocol === 'https:' ? '; Secure' : '';
      return {
        action: 'respond',
        response: new Response(null, {
          status: 303,
          headers: {
            Location: '/',
            'Set-Cookie': `${BYPASS_COOKIE}=${value}; Path=/; Max-Age=${bypassTtl}; HttpOnly; SameSite=Lax${secure}`,
            'Cache-Control': 'no-store',
            ...modeHeaders,
          },
        }),
      };
    }

    const restricted = state.mode === 'maintenance' || (state.mode === 'read_only' && !SAFE.has(req.method));
    if (!restricted || pathAllowed(path) || ipAllowed(req.ip)) return { action: 'pass', headers: modeHeaders };
    if (options.bypass && (await verifyBypass(options.bypass.secret, cookie(req.headers, BYPASS_COOKIE), now()))) {
      return { action: 'pass', headers: modeHeaders };
    }

    const maintenance = state.mode === 'maintenance';
    const headers: Record<string, string> = { ...modeHeaders, 'Cache-Control': 'no-store' };
    if (state.retryAfter) headers['Retry-After'] = new Date(state.retryAfter).toUTCString();
    const desc = maintenance ? 'Maintenance mode' : 'Read-only mode';
    log.error(desc, {
      code: 'H80',
      desc,
      method: req.method,
      path,
      host: req.headers.get('host') || undefined,
      fwd: req.ip || undefined,
      role: options.role,
      status: 503,
      stale: state.stale || undefined,
    });
    const more = `For more information, visit ${options.statusPageUrl}`;
    if (maintenance && prefersHtml(req.headers.get('accept'))) {
      // Refresh is for people looking at the page: a browser reloads it, and gets through once it is over
      const refresh: Record<string, string> = state.refresh ? { Refresh: String(state.refresh) } : {};
      return { action: 'respond', response: new Response(await maintenanceHtml(state), { status: 503, headers: { ...headers, ...refresh, 'Content-Type': 'text/html; charset=utf-8' } }) };
    }
    const body = maintenance
      ? { id: 'maintenance', message: `${siteName} is temporarily unavailable. ${more}` }
      : { id: 'read_only', message: `${siteName} is in read-only mode: reads work, changes are refused for now. ${more}` };
    return { action: 'respond', response: new Response(JSON.stringify(body), { status: 503, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } }) };
  }
}
