import { Hono, type Context } from 'hono';
import { loadCatalog } from '../../db/queries/environments.ts';
import { withCatalog } from '../../domain/components.ts';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../../errors.ts';
import { logLine } from '../../log.ts';
import { writeSchemas } from '../../services/schemas.ts';
import * as sessions from '../../services/sessions.ts';
import * as setup from '../../services/setup.ts';
import type { WebhookDeps } from '../../services/webhooks.ts';
import { constantTimeEqual } from '../../services/tokens.ts';
import { ConsoleErrorPage, LinkPage, SigninPage } from '../../../templates/console/signin-page.tsx';
import { SetupClosedPage, SetupDonePage, SetupPage } from '../../../templates/console/setup-page.tsx';
import type { ConsoleMeta } from '../../../templates/view.ts';
import { BODY_LIMIT_BYTES } from '../http.ts';
import { pageMeta } from '../view-models.ts';
import { consoleAlerts } from './alerts.tsx';
import { consoleComponents } from './components.tsx';
import { consoleIncidents } from './incidents.tsx';
import { consoleMaintenance } from './maintenance.tsx';
import { consolePlatform } from './platform.tsx';
import { consoleSubscribers } from './subscribers.tsx';
import { consoleTokens } from './tokens.tsx';
import { consoleWebhooks } from './webhooks.tsx';
import { consoleMeta, page, readForm, seeOther, text, validate, type Form } from './kit.ts';
import {
  clearSessionCookie,
  clientAddress,
  fromThisSite,
  keyring,
  requireSession,
  sessionOf,
  setSessionCookie,
  signinCsrf,
  signinCsrfMatches,
  type ConsoleEnv,
} from './session.ts';

/** Fields whose text is handed back when a session ran out mid-form (see SigninPage). */
const KEPT_FIELDS: Readonly<Record<string, string>> = { title: 'Title', message: 'Message', markdown: 'Postmortem', reason: 'Reason' };

/** Only console paths are followed after sign-in (never another site). */
function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[\w\-/.%?=&]*)?$/.test(next) && !next.includes('//') ? next : '/console/incidents';
}

/**
 * The commander console under /console: server-rendered forms over the same use cases as the
 * API. Works without JavaScript. Sessions are cookies (signed, HttpOnly, SameSite=Strict, Secure
 * on https) naming a server-side session; every form carries a CSRF token bound to the session.
 */
export function consoleRoutes(deps: WebhookDeps & { readonly log: (line: string) => void }) {
  const { db, clock, config } = deps;
  const app = new Hono<ConsoleEnv>();
  const keys = keyring(deps);

  const signedOutMeta = (c: Context): ConsoleMeta => ({
    page: pageMeta(config, undefined, clock.now()),
    actor: null,
    csrf: signinCsrf(c),
    can: { incidents: false, maintenance: false, admin: false },
    notice: c.req.query('done') === 'signed-out' ? 'Signed out.' : undefined,
  });

  function errorPage(c: Context, status: 400 | 403 | 404 | 409 | 422 | 429, title: string, message: string) {
    const meta = c.get('actor') ? consoleMeta(c as Context<ConsoleEnv>, deps) : signedOutMeta(c);
    return page(c, <ConsoleErrorPage meta={meta} title={title} message={message} />, status);
  }

  app.onError((err, c) => {
    if (err instanceof AppError && err.status < 500 && err.status !== 413) {
      const titles: Record<number, string> = { 403: 'Not allowed', 404: 'Not found', 409: 'That cannot be done now' };
      return errorPage(c, err.status as 400, titles[err.status] ?? 'That request was not understood', err.message);
    }
    throw err;
  });

  app.use('*', async function refuseCrossSite(c, next) {
    // Browsers send "Origin: null" on a form post from a no-referrer page; the console's own
    // pages tell them to send the real origin (to this site only), which is what is checked here.
    c.header('Referrer-Policy', 'same-origin');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !fromThisSite(c, config)) {
      deps.log(logLine('warn', 'console: cross-site form refused', { path: c.req.path }));
      return errorPage(c, 403, 'Form refused', 'This form was sent from another site, so Herald refused it and changed nothing. Open the console and submit the form from there.');
    }
    c.header('Cache-Control', 'no-store');
    return next();
  });

  app.use('*', async function limitBody(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: (c2) => errorPage(c2, 422, 'Too much text', `A form may carry at most ${BODY_LIMIT_BYTES / 1024} KiB. Nothing was saved; shorten the text and try again.`),
    })(c, next);
  });

  function signinPage(c: Context, next: string, errors: Record<string, string[]>, status: 200 | 400 | 401 | 429 = 200, kept: (readonly [string, string])[] = []) {
    return page(c, <SigninPage meta={signedOutMeta(c)} next={next} hours={config.sessionHours} errors={errors} kept={kept} />, status);
  }

  app.get('/signin', async (c) => {
    if (await sessionOf(c, deps, keys)) return seeOther(c, safeNext(c.req.query('next')));
    return signinPage(c, safeNext(c.req.query('next')), {});
  });

  app.post('/signin', async (c) => {
    const form = await readForm(c);
    const next = safeNext(text(form, 'next'));
    if (!signinCsrfMatches(c, text(form, '_csrf'))) {
      return signinPage(c, next, { '(form)': ['The sign-in form had expired. Please enter your token again.'] }, 400);
    }
    const address = clientAddress(c, config);
    const now = clock.now();
    const token = text(form, 'token');
    const outcome = await sessions.signInWithToken(deps, address, token);
    if (outcome.kind === 'wait') {
      c.header('Retry-After', String(outcome.seconds));
      const minutes = Math.ceil(outcome.seconds / 60);
      return signinPage(c, next, { token: [`Too many failed sign-ins from your address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`] }, 429);
    }
    if (outcome.kind === 'refused') {
      deps.log(logLine('warn', 'console: failed sign-in', { address }));
      return signinPage(c, next, { token: [token.trim() === '' ? 'Enter your API token.' : 'That is not a valid API token (it may have been revoked).'] }, 401);
    }
    await setSessionCookie(c, keys, outcome.secret, outcome.session.expiresAt, now);
    return seeOther(c, next);
  });

  app.get('/signin/:secret', async (c) => {
    const secret = c.req.param('secret');
    const name = /^[A-Za-z0-9_-]{43}$/.test(secret) ? await sessions.peekSigninLink(db, clock.now(), secret) : undefined;
    return page(c, <LinkPage meta={signedOutMeta(c)} name={name ?? null} action={`/console/signin/${secret}`} />, name ? 200 : 404);
  });

  app.post('/signin/:secret', async (c) => {
    const secret = c.req.param('secret');
    const form = await readForm(c);
    if (!signinCsrfMatches(c, text(form, '_csrf'))) return seeOther(c, `/console/signin/${secret}`);
    const signedIn = /^[A-Za-z0-9_-]{43}$/.test(secret) ? await sessions.signInWithLink(deps, secret, clientAddress(c, config)) : undefined;
    if (!signedIn) return page(c, <LinkPage meta={signedOutMeta(c)} name={null} action="" />, 404);
    await setSessionCookie(c, keys, signedIn.secret, signedIn.session.expiresAt, clock.now());
    return seeOther(c, '/console/incidents');
  });

  // The first run's way in (services/setup.ts): a link the server prints while there is no token.
  const setupAction = (secret: string) => `/console/setup/${secret}`;
  const wellFormed = (secret: string) => /^[A-Za-z0-9_-]{43}$/.test(secret);

  app.get('/setup/:secret', async (c) => {
    const secret = c.req.param('secret');
    if (!wellFormed(secret) || !(await setup.setupOpen(db, secret))) return page(c, <SetupClosedPage meta={signedOutMeta(c)} />, 404);
    return page(c, <SetupPage meta={signedOutMeta(c)} action={setupAction(secret)} name="admin" errors={{}} />);
  });

  app.post('/setup/:secret', async (c) => {
    const secret = c.req.param('secret');
    const form = await readForm(c);
    if (!signinCsrfMatches(c, text(form, '_csrf'))) return seeOther(c, setupAction(secret));
    const now = clock.now();
    const name = text(form, 'name');
    const parsed = validate(writeSchemas(config, now).createToken, { name, scopes: ['admin'] });
    if (!parsed.ok) {
      if (!wellFormed(secret) || !(await setup.setupOpen(db, secret))) return page(c, <SetupClosedPage meta={signedOutMeta(c)} />, 404);
      return page(c, <SetupPage meta={signedOutMeta(c)} action={setupAction(secret)} name={name} errors={parsed.errors} />, 400);
    }
    const done = wellFormed(secret)
      ? await setup.completeSetup(deps, { secret, name: parsed.value.name, address: clientAddress(c, config) })
      : undefined;
    if (!done) return page(c, <SetupClosedPage meta={signedOutMeta(c)} />, 404);
    deps.log(logLine('info', 'setup: first token created', { token_id: done.row.id }));
    await setSessionCookie(c, keys, done.sessionSecret, done.session.expiresAt, now);
    c.set('actor', done.session.actor);
    c.set('csrf', await keys.mac(`csrf:${done.sessionSecret}`));
    return page(c, <SetupDonePage meta={consoleMeta(c as Context<ConsoleEnv>, deps)} name={done.row.name} secret={done.token} publicUrl={config.publicUrl.replace(/\/+$/, '')} />);
  });

  app.use(
    '*',
    requireSession(deps, keys, async (c) => {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const target = new URL(c.req.url);
        return seeOther(c, `/console/signin?next=${encodeURIComponent(target.pathname + target.search)}`);
      }
      // A form sent after the session ended: nothing is saved, and what was typed is handed back.
      const form: Form = await readForm(c).catch(() => ({}));
      const kept = Object.entries(KEPT_FIELDS)
        .map(([name, label]) => [label, text(form, name)] as const)
        .filter(([, v]) => v.trim() !== '');
      const referer = c.req.header('referer');
      return signinPage(c, safeNext(referer && URL.canParse(referer) ? new URL(referer).pathname : undefined), {}, 401, kept);
    }),
  );

  app.use('*', async function checkCsrf(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const form = await readForm(c);
    if (!constantTimeEqual(text(form, '_csrf'), c.get('csrf'))) {
      return errorPage(c, 403, 'Form refused', 'This form did not carry this session\'s security token (it may be from an earlier session), so nothing was changed. Reload the page and submit again.');
    }
    return next();
  });

  // The components are data: every console page and form sees the database's list as it is now.
  app.use('*', async function liveComponents(c, next) {
    c.set('config', withCatalog(deps.config, await loadCatalog(deps.db)));
    return next();
  });

  app.get('/', (c) => seeOther(c, '/console/incidents'));

  app.post('/signout', async (c) => {
    await sessions.signOut(deps, c.get('session'));
    clearSessionCookie(c);
    return seeOther(c, '/console/signin?done=signed-out');
  });

  app.route('/incidents', consoleIncidents(deps));
  app.route('/platform', consolePlatform(deps));
  app.route('/maintenance', consoleMaintenance(deps));
  app.route('/tokens', consoleTokens(deps));
  app.route('/webhooks', consoleWebhooks(deps));
  app.route('/alerts', consoleAlerts(deps));
  app.route('/subscribers', consoleSubscribers(deps));
  app.route('/', consoleComponents(deps)); // /components and /component-groups
  return app;
}
