import { Hono, type Context } from 'hono';
import { AppError } from '../errors.ts';
import type { AlertSource } from '../intake/alert.ts';
import { verifyGrafanaSignature } from '../intake/payloads.ts';
import { createRule, getInboxEntry, getRule, listInbox, listRules, pruneInbox, receiveAlerts, removeRule, updateRule } from '../services/alerts.ts';
import type { Actor, Deps } from '../services/deps.ts';
import { authenticate, requireScope } from '../services/tokens.ts';
import { idParam, readJson, requireToken, type Env } from './http.ts';

/** A notification of a thousand alerts with their annotations fits; the /api limit (256 KiB) would not. */
export const ALERT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** The inbox is pruned by the process that receives alerts, at most this often. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Alert intake (docs/alerts.md): Alertmanager's webhook receiver and Grafana's webhook contact
 * point post here; the answer says what the notification did (it is also in the inbox).
 * A database that is down answers 503, which both senders retry.
 */
export function alertRoutes(deps: Deps) {
  const app = new Hono<Env>();
  let prunedAt = -Infinity;
  const receive = async (c: Context<Env>, source: AlertSource, via: Actor | null, body: string) => {
    const result = await receiveAlerts(deps, source, body, via);
    if (performance.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = performance.now();
      await pruneInbox(deps).catch(() => undefined);
    }
    return c.json(result);
  };

  app.post('/alertmanager', requireToken(deps, 'alerts:write'), async (c) => receive(c, 'alertmanager', c.get('actor'), await c.req.text()));

  // With HERALD_GRAFANA_SECRET set, Grafana's HMAC signature admits the request (and a token,
  // if one is sent, must be valid too); without it, a token with alerts:write is required.
  app.post('/grafana', async (c) => {
    const body = await c.req.text();
    const { secret, signatureHeader, timestampHeader } = deps.config.grafana;
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    let via: Actor | null = null;
    if (bearer !== undefined || secret === undefined) {
      via = await authenticate(deps.db, deps.clock.now(), bearer);
      requireScope(via, 'alerts:write');
    }
    if (secret !== undefined) {
      const timestamp = timestampHeader === undefined ? undefined : (c.req.header(timestampHeader) ?? '');
      const ok = await verifyGrafanaSignature({ secret, body, signature: c.req.header(signatureHeader), timestamp, now: deps.clock.now() });
      if (!ok) {
        const what = timestampHeader === undefined ? `${signatureHeader}` : `${signatureHeader} and ${timestampHeader} (within 5 minutes of the server's time)`;
        throw new AppError('alert.bad_signature', `The request is not signed with HERALD_GRAFANA_SECRET: ${what} must carry Grafana's HMAC-SHA256 signature.`);
      }
    }
    return receive(c, 'grafana', via, body);
  });

  app.get('/inbox', requireToken(deps, 'admin'), async (c) => {
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    const before = c.req.query('before');
    return c.json(await listInbox(deps, { limit, before: before !== undefined && /^\d{1,18}$/.test(before) ? before : undefined }));
  });
  app.get('/inbox/:id', requireToken(deps, 'admin'), async (c) => c.json(await getInboxEntry(deps, c.req.param('id'))));
  return app;
}

/** Alert rules (admin): which alerts matter and what they mean for the page. */
export function alertRuleRoutes(deps: Deps) {
  const app = new Hono<Env>();
  app.use('*', requireToken(deps, 'admin'));
  const id = (c: Parameters<typeof idParam>[0]) => idParam(c, 'id', 'Rule');
  app.get('/', async (c) => c.json(await listRules(deps)));
  app.post('/', async (c) => c.json(await createRule(deps, { actor: c.get('actor') }, await readJson(c)), 201));
  app.get('/:id', async (c) => c.json(await getRule(deps, id(c))));
  app.patch('/:id', async (c) => c.json(await updateRule(deps, { actor: c.get('actor') }, id(c), await readJson(c))));
  app.delete('/:id', async (c) => c.json(await removeRule(deps, { actor: c.get('actor') }, id(c))));
  return app;
}
