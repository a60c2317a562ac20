import { createGate, MODE_HEADER, type GateOptions } from './core.ts';

/** A fetch-style handler: Hono's `app.fetch`, a Workers `fetch`, or any (Request) → Response. */
export type FetchHandler<E, X> = (req: Request, env?: E, ctx?: X) => Response | Promise<Response>;

export interface GatedFetchOptions<E> extends GateOptions {
  /**
   * The client's address, for `allowIps`. Default: the socket's address under @hono/node-server
   * (never a forwarded header, which clients can forge; pass your own to trust a proxy).
   */
  readonly clientIp?: (req: Request, env: E | undefined) => string | undefined;
}

type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } }; outgoing?: { setHeader?: (k: string, v: string) => void; headersSent?: boolean } };

/** The path of an absolute URL without building a URL object (the common case, per request). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 63 /* ? */ || ch === 35 /* # */) {
      end = i;
      break;
    }
  }
  return url.slice(start, end);
}

/** Sets headers on a response; a response with immutable headers (from fetch()) is copied first. */
function withHeaders(res: Response, headers: Readonly<Record<string, string>>): Response {
  try {
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    for (const [k, v] of Object.entries(headers)) copy.headers.set(k, v);
    return copy;
  }
}

/**
 * The gate around a whole fetch handler instead of inside it, for any framework (or none):
 *
 *   serve({ fetch: withPlatformGate(app.fetch, { role: 'web', modes: modeClient, statusPageUrl }) })
 *
 * Same decisions as `platformGate`. It costs less per request than the middleware: when the
 * mode lets a request through it adds no async step, and on Node it puts the mode header straight
 * on the outgoing response, so Hono keeps its fast path for the app inside.
 */
export function withPlatformGate<E = unknown, X = unknown>(handler: FetchHandler<E, X>, options: GatedFetchOptions<E>): FetchHandler<E, X> {
  const decide = createGate(options);
  const clientIp = options.clientIp ?? ((_req: Request, env: E | undefined) => (env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress);
  return function gatedFetch(req, env, ctx) {
    const passing = decide.passesAs(req.method, pathOf(req.url));
    if (passing !== undefined) {
      const outgoing = (env as NodeBindings | undefined)?.outgoing;
      if (outgoing?.setHeader && !outgoing.headersSent) {
        outgoing.setHeader(MODE_HEADER, passing);
        return handler(req, env, ctx);
      }
      const res = handler(req, env, ctx);
      return res instanceof Response ? withHeaders(res, { [MODE_HEADER]: passing }) : res.then((r) => withHeaders(r, { [MODE_HEADER]: passing }));
    }
    return (async () => {
      const decision = await decide({ method: req.method, url: new URL(req.url), headers: req.headers, ip: clientIp(req, env) });
      if (decision.action === 'respond') return decision.response;
      return withHeaders(await handler(req, env, ctx), decision.headers);
    })();
  };
}
