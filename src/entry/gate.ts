import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { createGate, type GateOptions, type GateRequest } from '../gate/core.ts';
import { ModeClient } from '../gate/mode-client.ts';
import { createLogger } from '../log.ts';

export interface ProxyOptions extends Omit<GateOptions, 'modes'> {
  readonly upstream: string;
  readonly heraldUrl: string;
  readonly port: number;
  /** Address to listen on (default all interfaces). */
  readonly hostname?: string;
  /**
   * The gate's peer is a proxy of yours (a load balancer): keep the X-Forwarded-Host/-Proto,
   * Forwarded and X-Real-IP it sent, append the peer to its X-Forwarded-For, and take the
   * client's address for `allowIps` from that list's last entry. Off (the default), whatever a
   * client claims there is replaced by what the gate itself sees.
   */
  readonly trustProxy?: boolean;
}

/**
 * Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1, and the
 * Proxy-* pair RFC 2616 listed), in either direction. Headers a `Connection` header names are
 * dropped too: a peer marks its own hop-by-hop extensions that way.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** Where a client may claim an address, host or scheme; replaced unless the peer is trusted. */
const CLIENT_CLAIMS = ['forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto'];

/** `headers` without the hop-by-hop ones, nor those its Connection header names. */
function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = headers.connection ? new Set(headers.connection.toLowerCase().split(',').map((t) => t.trim())) : undefined;
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named?.has(k)) out[k] = v;
  return out;
}

/** The last X-Forwarded-For entry: the address our own proxy saw (earlier ones are the client's say). */
function lastForwardedFor(header: string | string[] | undefined): string | undefined {
  const list = Array.isArray(header) ? header.join(',') : header;
  const last = list?.split(',').at(-1)?.trim();
  return last || undefined;
}

const joined = (header: string | string[] | undefined) => (Array.isArray(header) ? header.join(', ') : header);

/** Writes a whole HTTP/1.1 response on a raw socket (an upgrade request's), then closes it. */
function answerRaw(socket: Duplex, status: number, statusText: string, headers: [string, string][], body: Buffer) {
  const lines = [`HTTP/1.1 ${status} ${statusText}`, ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${body.length}`, 'Connection: close'];
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}

/**
 * `herald gate`: a reverse proxy that enforces a role's mode in front of any HTTP API. In full
 * mode a request passes untouched — method, path and query, end-to-end headers, the body
 * streamed both ways, the upstream's status — with the Platform-Mode header added, and
 * X-Forwarded-For/-Host/-Proto saying what the gate saw.
 *
 * An upgrade (WebSocket) is judged like any request with its method (a WebSocket handshake is a
 * GET: it passes in read_only, is refused with 503 in maintenance) and, once it passes, becomes a
 * tunnel of bytes both ways. A tunnel outlives its request, so each change of the role's mode
 * judges the open ones again and closes those the new mode refuses.
 */
export async function startGateProxy(options: ProxyOptions) {
  // one line each, in Herald's log format (src/log.ts), from the gate, its mode client and here
  const writeLine = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const modes = new ModeClient({ heraldUrl: options.heraldUrl, log: writeLine });
  await modes.ready(3000);
  const decide = createGate({ ...options, modes, log: writeLine });
  const upstream = new URL(options.upstream);
  const client = upstream.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 256 });
  const trustProxy = options.trustProxy ?? false;
  const tunnels = new Set<{ readonly request: GateRequest; close(): void }>();

  /** The gate's view of a request: its target joined (never resolved) and the client's address. */
  function gateRequest(req: http.IncomingMessage): GateRequest {
    // Join, never resolve: "//evil/healthz" must be checked as the path the upstream will get.
    const target = req.url ?? '/';
    const url = new URL(target.startsWith('/') ? `http://gate${target}` : target);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const peer = req.socket.remoteAddress;
    const ip = trustProxy ? (lastForwardedFor(req.headers['x-forwarded-for']) ?? peer) : peer;
    return { method: req.method ?? 'GET', url, headers, ip };
  }

  /** What the upstream is sent: end-to-end headers, the forwarding ones as the gate sees them. */
  function upstreamHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
    const out = endToEnd(req.headers);
    const peer = req.socket.remoteAddress;
    if (trustProxy) {
      out['x-forwarded-for'] = [joined(req.headers['x-forwarded-for']), peer].filter(Boolean).join(', ');
      if (req.headers.host) out['x-forwarded-host'] ??= req.headers.host;
      out['x-forwarded-proto'] ??= 'http';
    } else {
      for (const k of CLIENT_CLAIMS) delete out[k];
      if (peer) out['x-forwarded-for'] = peer;
      else delete out['x-forwarded-for'];
      // The upstream sees its own name (TLS and host routing need it); the client's is kept aside.
      if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
      out['x-forwarded-proto'] = 'http';
    }
    out.host = upstream.host;
    return out;
  }

  const server = http.createServer(async (req, res) => {
    try {
      const decision = await decide(gateRequest(req));
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
      const up = client.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url ?? '/', headers: upstreamHeaders(req), agent, servername: upstream.hostname },
        (upRes) => {
          const back = endToEnd(upRes.headers);
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

  server.on('upgrade', async (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      const request = gateRequest(req);
      const decision = await decide(request);
      if (decision.action === 'respond') {
        const r = decision.response;
        const headers: [string, string][] = [];
        r.headers.forEach((v, k) => headers.push([k, v]));
        answerRaw(socket, r.status, http.STATUS_CODES[r.status] ?? '', headers, Buffer.from(await r.arrayBuffer()));
        return;
      }
      const headers = upstreamHeaders(req);
      // the handshake is asked for again on the next hop
      headers.connection = 'Upgrade';
      headers.upgrade = req.headers.upgrade;
      const up = client.request({ protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url ?? '/', headers, agent: false, servername: upstream.hostname });
      up.on('upgrade', (upRes, upSocket, upHead) => {
        const lines = [`HTTP/1.1 ${upRes.statusCode ?? 101} ${upRes.statusMessage ?? 'Switching Protocols'}`];
        for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
        for (const [k, v] of Object.entries(decision.headers)) lines.push(`${k}: ${v}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
        if (upHead.length > 0) socket.write(upHead);
        if (head.length > 0) upSocket.write(head);
        const tunnel = {
          request,
          close() {
            tunnels.delete(tunnel);
            socket.destroy();
            upSocket.destroy();
          },
        };
        tunnels.add(tunnel);
        upSocket.on('error', tunnel.close);
        socket.on('close', tunnel.close);
        upSocket.on('close', tunnel.close);
        upSocket.pipe(socket);
        socket.pipe(upSocket);
      });
      // the upstream declined to switch: its answer goes back as is, and the connection closes
      up.on('response', (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upRes.on('error', () => socket.destroy());
        upRes.on('end', () => {
          const back: [string, string][] = [];
          for (const [k, v] of Object.entries(endToEnd(upRes.headers))) if (k !== 'content-length') for (const one of [v].flat()) back.push([k, String(one)]);
          for (const [k, v] of Object.entries(decision.headers)) back.push([k, v]);
          answerRaw(socket, upRes.statusCode ?? 502, upRes.statusMessage ?? '', back, Buffer.concat(chunks));
        });
      });
      up.on('error', () => {
        const body = Buffer.from(JSON.stringify({ id: 'bad_gateway', message: 'The upstream did not answer.' }));
        answerRaw(socket, 502, 'Bad Gateway', [['content-type', 'application/json; charset=utf-8'], ...Object.entries(decision.headers)], body);
      });
      socket.once('close', () => up.destroy());
      up.end();
    } catch {
      socket.destroy();
    }
  });

  // A tunnel opened while the mode allowed it is closed once the mode refuses it.
  const stopJudging = modes.onChange((role) => {
    if (role !== options.role) return;
    for (const tunnel of [...tunnels]) {
      decide(tunnel.request).then(
        (d) => d.action === 'respond' && tunnel.close(),
        () => tunnel.close(),
      );
    }
  });

  await new Promise<void>((resolve) => server.listen(options.port, options.hostname ?? '0.0.0.0', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  createLogger(writeLine).info('gate listening', { url: `http://localhost:${port}`, upstream: upstream.origin, role: options.role, herald: options.heraldUrl });
  return {
    port,
    modes,
    close: async () => {
      stopJudging();
      modes.close();
      for (const tunnel of [...tunnels]) tunnel.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
