import { Hono, type Context } from 'hono';
import { attemptOf } from '../../db/queries/webhooks.ts';
import { WEBHOOK_EVENTS, WEBHOOK_FORMATS } from '../../delivery/notice.ts';
import { requireScope } from '../../services/tokens.ts';
import * as webhooks from '../../services/webhooks.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import {
  RemoveConfirmPage,
  SecretRotatedPage,
  WebhookCreatedPage,
  WebhookPage,
  WebhooksPage,
  type WebhookChoices,
  type WebhookRejected,
  type WebhookValues,
  type WebhookVM,
} from '../../../templates/console/webhooks-page.tsx';
import { firstAttempt, TEST_WAIT_MS } from '../webhooks.ts';
import { idParam } from '../http.ts';
import { attempt, consoleMeta, list, page, readForm, seeOther, text, type Form } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

type Status = 200 | 400 | 403 | 404 | 409 | 422;

const NOTICES: Readonly<Record<string, string>> = {
  'webhook-saved': 'Webhook saved.',
  'webhook-disabled': 'Webhook disabled. Its notices keep queueing and are sent when it is enabled again.',
  'webhook-enabled': 'Webhook enabled. What it still had to send goes out now.',
  'webhook-removed': 'Webhook removed. Nothing more is sent to it.',
  'test-disabled': 'This webhook is disabled: enable it to send a test event.',
};

const EMPTY: WebhookValues = { url: '', format: 'herald', events: WEBHOOK_EVENTS, environments: [], description: '' };

const valuesOf = (form: Form): WebhookValues => ({
  url: text(form, 'url').trim(),
  format: text(form, 'format'),
  events: list(form, 'events'),
  environments: list(form, 'environments'),
  description: text(form, 'description'),
});

const valuesOfWebhook = (w: WebhookVM): WebhookValues => ({ url: w.url, format: w.format, events: w.events, environments: w.environments ?? [], description: w.description ?? '' });

/** The API's body for what a form says: no component checked means every component. */
const bodyOf = (v: WebhookValues) => ({
  url: v.url,
  format: v.format,
  events: v.events,
  environments: v.environments.length > 0 ? v.environments : null,
  description: v.description.trim() === '' ? null : v.description,
});

/** "events.2" is a problem of one checkbox; it is shown beside its group. */
function foldListErrors(errors: Errors): Errors {
  const out: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(errors)) (out[key.replace(/^(events|environments)\.\d+$/, '$1')] ??= []).push(...messages);
  return out;
}

/**
 * /console/webhooks (admin, as the API's /api/v1/webhooks): the subscriptions, adding one (its
 * secret shown once, on the answer to the POST: never in a URL), and per subscription its
 * details, a test event, editing, rotating the secret, disabling, enabling, removing and the
 * attempt log. The same use cases as the API.
 */
export function consoleWebhooks(deps: webhooks.WebhookDeps) {
  const app = new Hono<ConsoleEnv>();

  /** Every handler checks the scope itself (a 403 page from the console's error handler). */
  const admin = (c: Context<ConsoleEnv>) => {
    const actor = c.get('actor');
    requireScope(actor, 'admin');
    return { actor };
  };
  /** Components are checked against the database's list now, as the form offered them. */
  const live = (c: Context<ConsoleEnv>): webhooks.WebhookDeps => ({ ...deps, config: c.get('config') });
  const meta = (c: Context<ConsoleEnv>) => ({ ...consoleMeta(c, deps, 'webhooks'), notice: NOTICES[c.req.query('done') ?? ''] });
  const choices = (c: Context<ConsoleEnv>): WebhookChoices => ({ events: WEBHOOK_EVENTS, formats: WEBHOOK_FORMATS, components: c.get('config').environments });

  async function listPage(c: Context<ConsoleEnv>, values: WebhookValues, errors: Errors, status: Status = 200) {
    const all = await webhooks.listWebhooks(deps);
    return page(c, <WebhooksPage meta={meta(c)} webhooks={all} choices={choices(c)} values={values} errors={errors} />, status);
  }

  async function detailPage(c: Context<ConsoleEnv>, id: number, rejected: WebhookRejected | null = null, status: Status = 200) {
    const webhook = await webhooks.getWebhook(deps, id);
    const attempts = await webhooks.webhookAttempts(deps, id, 50);
    const messageId = c.req.query('tested');
    const tested =
      messageId !== undefined && /^msg_[0-9a-f]{32}$/.test(messageId) ? { message_id: messageId, attempt: (await attemptOf(deps.db, messageId)) ?? null, waitedSeconds: TEST_WAIT_MS / 1000 } : null;
    const values = rejected?.form === 'edit' ? rejected.values : valuesOfWebhook(webhook);
    return page(c, <WebhookPage meta={meta(c)} webhook={webhook} choices={choices(c)} values={values} attempts={attempts} tested={tested} rejected={rejected} />, status);
  }

  app.get('/', (c) => {
    admin(c);
    return listPage(c, EMPTY, {});
  });

  app.post('/', async (c) => {
    const command = admin(c);
    const values = valuesOf(await readForm(c));
    // No idempotency key: the answer holds the secret, which is never stored.
    const made = await attempt(() => webhooks.createWebhook(live(c), command, bodyOf(values)));
    if (!made.ok) return listPage(c, values, foldListErrors(made.errors), made.status);
    const { secret, ...webhook } = made.value;
    return page(c, <WebhookCreatedPage meta={meta(c)} webhook={webhook} secret={secret} />);
  });

  app.get('/:id', (c) => {
    admin(c);
    return detailPage(c, idParam(c, 'id', 'Webhook'));
  });

  app.post('/:id', async (c) => {
    const command = admin(c);
    const id = idParam(c, 'id', 'Webhook');
    const values = valuesOf(await readForm(c));
    const saved = await attempt(() => webhooks.updateWebhook(live(c), command, id, bodyOf(values)));
    if (!saved.ok) return detailPage(c, id, { form: 'edit', errors: foldListErrors(saved.errors), values }, saved.status);
    return seeOther(c, `/console/webhooks/${id}?done=webhook-saved`);
  });

  // Queued behind what the subscription has to send; the answer waits for the first attempt, so
  // the page it redirects to can say what the receiver answered.
  app.post('/:id/test', async (c) => {
    const command = admin(c);
    const id = idParam(c, 'id', 'Webhook');
    if ((await webhooks.getWebhook(deps, id)).state === 'disabled') return seeOther(c, `/console/webhooks/${id}?done=test-disabled`);
    const { message_id } = await webhooks.queueTestEvent(deps, command, id);
    await firstAttempt(deps.db, message_id, TEST_WAIT_MS);
    return seeOther(c, `/console/webhooks/${id}?tested=${message_id}#test-result`);
  });

  app.post('/:id/rotate', async (c) => {
    const command = admin(c);
    const id = idParam(c, 'id', 'Webhook');
    const overlap = text(await readForm(c), 'overlap_hours');
    // Text that is no number reaches the schema as NaN, which it refuses in its own words.
    const body = overlap.trim() === '' ? {} : { overlap_hours: Number(overlap) };
    const rotated = await attempt(() => webhooks.rotateSecret(deps, command, id, body));
    if (!rotated.ok) return detailPage(c, id, { form: 'rotate', errors: rotated.errors, overlap }, rotated.status);
    const { secret, ...webhook } = rotated.value;
    return page(c, <SecretRotatedPage meta={meta(c)} webhook={webhook} secret={secret} />);
  });

  app.post('/:id/disable', async (c) => {
    const command = admin(c);
    const id = idParam(c, 'id', 'Webhook');
    const reason = text(await readForm(c), 'reason');
    const done = await attempt(() => webhooks.disableWebhook(deps, command, id, reason.trim() === '' ? {} : { reason }));
    if (!done.ok) return detailPage(c, id, { form: 'disable', errors: done.errors, reason }, done.status);
    return seeOther(c, `/console/webhooks/${id}?done=webhook-disabled`);
  });

  app.post('/:id/enable', async (c) => {
    const command = admin(c);
    const id = idParam(c, 'id', 'Webhook');
    await webhooks.enableWebhook(deps, command, id);
    return seeOther(c, `/console/webhooks/${id}?done=webhook-enabled`);
  });

  /** First POST asks ("Remove webhook #N?"); the second, with intent=confirm, removes. */
  app.post('/:id/remove', async (c) => {
    const command = admin(c);
    const id = idParam(c, 'id', 'Webhook');
    if (text(await readForm(c), 'intent') !== 'confirm') return page(c, <RemoveConfirmPage meta={meta(c)} webhook={await webhooks.getWebhook(deps, id)} />);
    // Confirmed twice (a double click, or another commander first): it is removed either way.
    const removed = await attempt(() => webhooks.removeWebhook(deps, command, id));
    if (!removed.ok && removed.status !== 404) return detailPage(c, id, null, removed.status);
    return seeOther(c, '/console/webhooks?done=webhook-removed');
  });

  return app;
}
