import type { Context, MiddlewareHandler } from 'hono';
import { createGate, MODE_HEADER, type GateOptions } from './core.ts';

export interface PlatformGateOptions extends GateOptions {
  /**
   * The client's address, for `allowIps`. Default: the socket's address under @hono/node-server
   * (never a forwarded header, which clients can forge; pass your own to trust a proxy).
   */
  readonly clientIp?: (c: Context) => string | undefined;
}

function socketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * Enforces a role's platform mode on a Hono app:
 *
 *   app.use('*', platformGate({ role: 'web', modes: modeClient, statusPageUrl: 'https://status.example.com' }))
 *
 * maintenance → 503 (a page for browsers, JSON for API clients); read_only → writes get 503;
 * every response carries the Platform-Mode header.
 */
export function platformGate(options: PlatformGateOptions): MiddlewareHandler {
  const decide = createGate(options);
  const clientIp = options.clientIp ?? socketAddress;
  return async function platformGateMiddleware(c, next) {
    const passing = decide.passesAs(c.req.method, c.req.path);
    if (passing !== undefined) {
      // Fast path: on Node, put the header straight on the response being built (cheaper than
      // rebuilding Hono's response headers after the handler ran).
      const outgoing = (c.env as { outgoing?: { setHeader?: (k: string, v: string) => void; headersSent?: boolean } } | undefined)?.outgoing;
      if (outgoing?.setHeader && !outgoing.headersSent) {
        outgoing.setHeader(MODE_HEADER, passing);
        return next();
      }
      await next();
      c.res.headers.set(MODE_HEADER, passing);
      return;
    }
    const decision = await decide({ method: c.req.method, url: new URL(c.req.url), headers: c.req.raw.headers, ip: clientIp(c) });
    if (decision.action === 'respond') return decision.response;
    await next();
    for (const [k, v] of Object.entries(decision.headers)) c.res.headers.set(k, v);
  };
}
