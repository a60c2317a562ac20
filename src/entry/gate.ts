import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { createGate, type GateOptions } from '../gate/core.ts';
import { ModeClient } from '../gate/mode-client.ts';

export interface ProxyOptions extends Omit<GateOptions, 'modes'> {
  readonly upstream: string;
  readonly heraldUrl: string;
  readonly port: number;
  /** Address to listen on (default all interfaces). */
  readonly hostname?: string;
}

/** Headers that belong to one connection and are not forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * `herald gate`: a reverse proxy that enforces a role's mode in front of any HTTP API. In full
 * mode a request passes untouched — method, path and query, headers (plus X-Forwarded-For), the
 * body streamed both ways, the upstream's status — with the Platform-Mode header added.
 */
export async function startGateProxy(options: ProxyOptions) {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const modes = new ModeClient({ heraldUrl: options.heraldUrl, log });
  await modes.ready(3000);
  const decide = createGate({ ...options, modes, log });
  const upstream = new URL(options.upstream);
  const client = upstream.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 256 });

  const server = http.createServer(async (req, res) => {
    try {
      // Join, never resolve: "//evil/healthz" must be checked as the path the upstream will get.
      const target = req.url ?? '/';
      const url = new URL(target.startsWith('/') ? `http://gate${target}` : target);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const decision = await decide({ method: req.method ?? 'GET', url, headers, ip: req.socket.remoteAddress });
      if (decision.action === 'respond') {
        const r = decision.response;
        const out: Record<string, string | string[]> = {};
        r.headers.forEach((v, k) => (out[k] = v));
        res.writeHead(r.status, out);
        if (r.body && req.method !== 'HEAD') Readable.fromWeb(r.body as import('node:stream/web').ReadableStream).pipe(res);
        else res.end();
        req.resume();
        return;
      }
      const forwarded: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) forwarded[k] = v;
      const xff = req.headers['x-forwarded-for'];
      forwarded['x-forwarded-for'] = [xff, req.socket.remoteAddress].filter(Boolean).join(', ');
      // The upstream sees its own name (TLS and host routing need it); the client's is kept aside.
      if (req.headers.host) forwarded['x-forwarded-host'] ??= req.headers.host;
      forwarded['x-forwarded-proto'] ??= 'http';
      forwarded.host = upstream.host;
      const up = client.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: target, headers: forwarded, agent, servername: upstream.hostname },
        (upRes) => {
          const back: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) back[k] = v;
          for (const [k, v] of Object.entries(decision.headers)) back[k] = v;
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, back);
          upRes.once('error', () => res.destroy());
          upRes.pipe(res);
        },
      );
      // a client that leaves mid-request (or mid-answer) ends the upstream request too
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      // plain pipes: pipeline() costs an AbortController and a DOMException per request; the
      // close handlers here already end the upstream request when the client leaves
      req.pipe(up);
      // the connection dropping mid-upload does not always end `req`: watch the socket too
      const onSocketClose = () => {
        if (!req.complete) up.destroy();
      };
      req.socket.once('close', onSocketClose);
      res.once('finish', () => req.socket.off('close', onSocketClose));
      up.on('error', () => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', ...decision.headers });
          res.end(JSON.stringify({ id: 'bad_gateway', message: 'The upstream did not answer.' }));
        } else res.destroy();
      });
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ id: 'internal_error', message: 'The gate failed to handle this request.' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.hostname ?? '0.0.0.0', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log(`at=info msg="gate listening" url=http://localhost:${port} upstream=${upstream.origin} role=${options.role} herald=${options.heraldUrl}`);
  return {
    port,
    modes,
    close: async () => {
      modes.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
