import { Hono } from 'hono';
import { attemptOf } from '../db/queries/webhooks.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import {
  createWebhook,
  disableWebhook,
  enableWebhook,
  getWebhook,
  listWebhooks,
  queueTestEvent,
  removeWebhook,
  rotateSecret,
  updateWebhook,
  webhookAttempts,
  type WebhookDeps,
} from '../services/webhooks.ts';
import { idParam, readJson, requireToken, type Env } from './http.ts';

/** How long "send a test event" waits for the dispatcher's first attempt before answering 202. */
export const TEST_WAIT_MS = 15_000;

/**
 * Webhook subscriptions (admin scope). Answers that hold a secret (creation, rotation) are never
 * cached or stored for Idempotency-Key replays.
 */
export function webhookRoutes(deps: WebhookDeps) {
  const app = new Hono<Env>();
  app.use('*', requireToken(deps, 'admin'));
  const id = (c: Parameters<typeof idParam>[0]) => idParam(c, 'id', 'Webhook');

  app.get('/', async (c) => c.json(await listWebhooks(deps)));
  app.post('/', async (c) => {
    const made = await createWebhook(deps, { actor: c.get('actor') }, await readJson(c));
    c.header('Cache-Control', 'no-store');
    return c.json(made, 201);
  });
  app.get('/:id', async (c) => c.json(await getWebhook(deps, id(c))));
  app.patch('/:id', async (c) => c.json(await updateWebhook(deps, { actor: c.get('actor') }, id(c), await readJson(c))));
  app.delete('/:id', async (c) => c.json(await removeWebhook(deps, { actor: c.get('actor') }, id(c))));
  app.post('/:id/rotate-secret', async (c) => {
    const rotated = await rotateSecret(deps, { actor: c.get('actor') }, id(c), await readJson(c));
    c.header('Cache-Control', 'no-store');
    return c.json(rotated);
  });
  app.post('/:id/disable', async (c) => c.json(await disableWebhook(deps, { actor: c.get('actor') }, id(c), await readJson(c))));
  app.post('/:id/enable', async (c) => c.json(await enableWebhook(deps, { actor: c.get('actor') }, id(c))));
  app.get('/:id/attempts', async (c) => {
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    return c.json(await webhookAttempts(deps, id(c), limit));
  });
  // Queued behind what the subscription already has to send; the answer waits a little for the
  // first attempt so that the console and CLI can say at once what the receiver said.
  app.post('/:id/test', async (c) => {
    const { message_id } = await queueTestEvent(deps, { actor: c.get('actor') }, id(c));
    const attempt = await firstAttempt(deps.db, message_id, TEST_WAIT_MS);
    return c.json({ message_id, attempt }, attempt ? 200 : 202);
  });
  return app;
}

/** The first attempt at a message, polled for until `withinMs` has passed (then null). */
export async function firstAttempt(db: Kysely<Database>, messageId: string, withinMs: number) {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const a = await attemptOf(db, messageId);
    if (a || performance.now() > deadline) return a ?? null;
    await new Promise((r) => setTimeout(r, 100));
  }
}
