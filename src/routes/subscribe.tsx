import { Hono, type Context } from 'hono';
import { loadCatalog } from '../db/queries/environments.ts';
import { liveComponents } from '../domain/components.ts';
import { AppError, type FieldProblem } from '../errors.ts';
import type { Deps } from '../services/deps.ts';
import * as subs from '../services/subscribers.ts';
import type { Errors } from '../../templates/console/forms.tsx';
import { ActionPage, ManagePage, MessagePage, SubscribePage } from '../../templates/subscribe-page.tsx';
import { list, readForm, text } from './console/kit.ts';
import { clientAddress } from './console/session.ts';
import { idParam, readJson, requireToken, type Env } from './http.ts';
import { pageMeta } from './view-models.ts';

const doctype = (jsx: { toString(): string }) => `<!DOCTYPE html>${jsx.toString()}`;

function errorsOf(problems: readonly FieldProblem[]): Errors {
  const out: Record<string, string[]> = {};
  for (const p of problems) (out[p.path.replace(/\.\d+$/, '')] ??= []).push(p.message);
  return out;
}

/**
 * Cross-site form posts are refused: a browser says where a POST comes from (Sec-Fetch-Site,
 * Origin), and only this site's own pages may post here. A request that says nothing (a mail
 * provider's RFC 8058 one-click POST, curl) is let through: it carries no visitor's cookies, and
 * these forms use none.
 */
function sameSite(c: Context, publicUrl: string): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = c.req.header('origin');
  if (origin === undefined || origin === 'null') return origin === undefined;
  return origin === new URL(publicUrl).origin || origin === new URL(c.req.url).origin;
}

/**
 * The public subscription pages (docs/subscribers.md). They are not cached: each is made for its
 * request, and a link's token is in its path. Responses carry `Referrer-Policy: no-referrer` so
 * a token never leaves in a Referer header.
 */
export function subscribeRoutes(deps: Deps) {
  const app = new Hono();
  const meta = () => pageMeta(deps.config, undefined, deps.clock.now());
  const choices = async () => liveComponents(await loadCatalog(deps.db)).map((c) => ({ slug: c.slug, name: c.name }));
  const html = (c: Context, body: string, status: 200 | 400 | 403 | 404 | 429 = 200) => {
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
    return c.html(body, status);
  };
  const refuseCrossSite = (c: Context) =>
    html(c, doctype(<MessagePage meta={meta()} title="Not sent from this site"><p>This form can only be sent from the status page itself. Nothing was changed.</p></MessagePage>), 403);
  const invalidLink = (c: Context) =>
    html(c, doctype(<MessagePage meta={meta()} title="This link does not work"><p>It may have expired (a confirmation link lasts 7 days), or the subscription was removed. You can <a href="/subscribe">subscribe again</a>.</p></MessagePage>), 404);

  const onlyWithMail = async (c: Context, next: () => Promise<void>) => {
    if (!deps.config.mail.enabled) return html(c, doctype(<MessagePage meta={meta()} title="No email updates here"><p>This status page does not send email. Follow it by <a href="/feed.rss">RSS</a> or <a href="/feed.atom">Atom</a> instead.</p></MessagePage>), 404);
    return next();
  };
  app.use('/subscribe', onlyWithMail);
  app.use('/subscriptions/*', onlyWithMail);

  app.get('/subscribe', async (c) => html(c, doctype(<SubscribePage meta={meta()} components={await choices()} values={{ email: '', components: [] }} errors={{}} />)));
  app.post('/subscribe', async (c) => {
    if (!sameSite(c, deps.config.publicUrl)) return refuseCrossSite(c);
    const form = await readForm(c);
    const values = { email: text(form, 'email'), components: list(form, 'components') };
    try {
      await subs.subscribe(deps, values, clientAddress(c, deps.config));
    } catch (error) {
      if (error instanceof AppError && error.code === 'subscriber.invalid_input') {
        return html(c, doctype(<SubscribePage meta={meta()} components={await choices()} values={values} errors={errorsOf(error.problems)} />), 400);
      }
      if (error instanceof AppError && error.code === 'subscriber.rate_limited') {
        c.header('Retry-After', '3600');
        return html(c, doctype(<MessagePage meta={meta()} title="Too many sign-ups"><p>{error.message}</p></MessagePage>), 429);
      }
      throw error;
    }
    // The same answer whether or not the address was already subscribed.
    return html(
      c,
      doctype(
        <MessagePage meta={meta()} title="Check your inbox">
          <p>If the address can receive mail, a message is on its way. Open the link in it to confirm; nothing else is sent until you do.</p>
        </MessagePage>,
      ),
    );
  });

  app.get('/subscriptions/confirm/:token', (c) =>
    html(c, doctype(<ActionPage meta={meta()} title="Confirm your subscription" text="One more step: confirm that this address should receive status updates." action={c.req.path} button="Confirm my subscription" />)),
  );
  app.post('/subscriptions/confirm/:token', async (c) => {
    if (!sameSite(c, deps.config.publicUrl)) return refuseCrossSite(c);
    const done = await subs.confirm(deps, c.req.param('token')).catch(linkError);
    if (!done) return invalidLink(c);
    return c.redirect(`/subscriptions/${done.manage}?confirmed=1`, 303);
  });

  app.get('/subscriptions/unsubscribe/:token', (c) =>
    html(c, doctype(<ActionPage meta={meta()} title="Unsubscribe" text="Stop status updates to this address? It is removed from the list." action={c.req.path} button="Unsubscribe" />)),
  );
  // Also RFC 8058's one-click: a mail provider POSTs `List-Unsubscribe=One-Click` here.
  app.post('/subscriptions/unsubscribe/:token', async (c) => unsubscribed(c, c.req.param('token')));

  app.get('/subscriptions/:token', async (c) => {
    const token = c.req.param('token');
    const found = await subs.managed(deps, token).catch(linkError);
    if (!found) return invalidLink(c);
    const notice = c.req.query('confirmed') ? 'Your subscription is confirmed.' : c.req.query('saved') ? 'Saved.' : undefined;
    return html(c, doctype(<ManagePage meta={meta()} email={found.subscriber.email} action={c.req.path} unsubscribe={`/subscriptions/${token}/unsubscribe`} components={found.components} following={found.subscriber.components} errors={{}} notice={notice} />));
  });
  app.post('/subscriptions/:token', async (c) => {
    if (!sameSite(c, deps.config.publicUrl)) return refuseCrossSite(c);
    const token = c.req.param('token');
    const form = await readForm(c);
    try {
      await subs.changeComponents(deps, token, { components: list(form, 'components') });
    } catch (error) {
      if (error instanceof AppError && error.code === 'subscriber.link_invalid') return invalidLink(c);
      if (error instanceof AppError && error.code === 'subscriber.invalid_input') {
        const found = await subs.managed(deps, token);
        return html(c, doctype(<ManagePage meta={meta()} email={found.subscriber.email} action={c.req.path} unsubscribe={`/subscriptions/${token}/unsubscribe`} components={found.components} following={list(form, 'components')} errors={errorsOf(error.problems)} />), 400);
      }
      throw error;
    }
    return c.redirect(`/subscriptions/${token}?saved=1`, 303);
  });
  app.post('/subscriptions/:token/unsubscribe', async (c) => {
    if (!sameSite(c, deps.config.publicUrl)) return refuseCrossSite(c);
    return unsubscribed(c, c.req.param('token'));
  });

  async function unsubscribed(c: Context, token: string) {
    const done = await subs.unsubscribe(deps, token).then(() => true, linkError);
    if (!done) return invalidLink(c);
    return html(c, doctype(<MessagePage meta={meta()} title="Unsubscribed"><p>Your address is removed: no more mail will come from {deps.config.name}.</p></MessagePage>));
  }
  return app;
}

/** A link that does not work reads as undefined; anything else is thrown on. */
function linkError(error: unknown): undefined {
  if (error instanceof AppError && error.code === 'subscriber.link_invalid') return undefined;
  throw error;
}

/** Subscribers for commanders (admin): list, CSV export, import, remove. */
export function subscriberApiRoutes(deps: Deps) {
  const app = new Hono<Env>();
  app.use('*', requireToken(deps, 'admin'));
  app.get('/', async (c) => c.json(await subs.listSubscribers(deps)));
  app.get('/export.csv', async (c) => {
    c.header('Content-Disposition', 'attachment; filename="subscribers.csv"');
    c.header('Cache-Control', 'no-store');
    return c.body(await subs.exportCsv(deps), 200, { 'Content-Type': 'text/csv; charset=utf-8' });
  });
  app.post('/import', async (c) => {
    const csv = /^text\/csv\b/i.test(c.req.header('content-type') ?? '');
    const body = csv ? await c.req.text() : await readJson(c);
    return c.json(await subs.importSubscribers(deps, { actor: c.get('actor') }, body));
  });
  app.delete('/:id', async (c) => {
    await subs.removeSubscriber(deps, { actor: c.get('actor') }, idParam(c, 'id', 'Subscriber'));
    return c.body(null, 204);
  });
  return app;
}
