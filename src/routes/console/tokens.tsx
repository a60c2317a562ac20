import { Hono, type Context } from 'hono';
import * as q from '../../db/queries/tokens.ts';
import type { TokenRow } from '../../db/schema.ts';
import { notFound } from '../../errors.ts';
import { actorLabel, SCOPES, type Actor, type Deps } from '../../services/deps.ts';
import { writeSchemas } from '../../services/schemas.ts';
import { absoluteUrl, createSigninLink, LINK_LIFETIME_MS } from '../../services/sessions.ts';
import { createToken, publicToken, requireScope, revokeToken } from '../../services/tokens.ts';
import { runWrite } from '../../services/transaction.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import { RevokeConfirmPage, TokenCreatedPage, TokensPage, type TokenFormValues, type TokenVM } from '../../../templates/console/tokens-page.tsx';
import { idParam } from '../http.ts';
import { attempt, consoleMeta, list, page, readForm, seeOther, text, validate } from './kit.ts';
import { clearSessionCookie, type ConsoleEnv } from './session.ts';

const view = (row: TokenRow, actor: Actor): TokenVM => ({ ...publicToken(row), self: row.id === actor.tokenId });

/**
 * /console/tokens (admin): the tokens, creating one (its secret shown once, with a one-time
 * sign-in link), and revoking one after a confirmation. The same use cases as /api/v1/tokens.
 */
export function consoleTokens(deps: Deps) {
  const { db, clock, config } = deps;
  const app = new Hono<ConsoleEnv>();

  /** Every handler checks the scope itself (a 403 page from the console's error handler). */
  const admin = (c: Context<ConsoleEnv>) => {
    const actor = c.get('actor');
    requireScope(actor, 'admin');
    return actor;
  };

  async function tokensPage(c: Context<ConsoleEnv>, values: TokenFormValues, errors: Errors, status: 200 | 400 | 403 | 404 | 409 | 422 = 200) {
    const actor = c.get('actor');
    const tokens = (await q.listTokens(db)).map((row) => view(row, actor));
    return page(c, <TokensPage meta={consoleMeta(c, deps, 'tokens')} tokens={tokens} scopes={SCOPES} values={values} errors={errors} />, status);
  }

  app.get('/', async (c) => {
    admin(c);
    return tokensPage(c, { name: '', scopes: [] }, {});
  });

  app.post('/', async (c) => {
    const actor = admin(c);
    const form = await readForm(c);
    const values: TokenFormValues = { name: text(form, 'name'), scopes: list(form, 'scopes') };
    const now = clock.now();
    const parsed = validate(writeSchemas(config, now).createToken, values);
    if (!parsed.ok) return tokensPage(c, values, parsed.errors, 400);
    let created: { secret: string; row: TokenRow; path: string } | undefined;
    const result = await attempt(() =>
      runWrite(deps, now, undefined, async (trx) => {
        const { token, row } = await createToken(trx, now, parsed.value, actorLabel(actor));
        const path = await createSigninLink(trx, now, row.id, actorLabel(actor));
        created = { secret: token, row, path };
        return { status: 201, body: publicToken(row) };
      }),
    );
    if (!result.ok || !created) return tokensPage(c, values, result.ok ? {} : result.errors, result.ok ? 400 : result.status);
    return page(
      c,
      <TokenCreatedPage
        meta={consoleMeta(c, deps, 'tokens')}
        token={view(created.row, actor)}
        secret={created.secret}
        signinUrl={absoluteUrl(config.publicUrl, created.path)}
        publicUrl={config.publicUrl.replace(/\/+$/, '')}
        linkMinutes={LINK_LIFETIME_MS / 60_000}
      />,
    );
  });

  /** First POST asks ("Revoke NAME?"); the second, with intent=confirm, revokes. */
  app.post('/:id/revoke', async (c) => {
    const actor = admin(c);
    const id = idParam(c, 'id', 'Token');
    const form = await readForm(c);
    const row = await q.findToken(db, id);
    if (!row) throw notFound(`Token ${id}`);
    if (text(form, 'intent') !== 'confirm') {
      if (row.revoked_at !== null) return seeOther(c, '/console/tokens?done=revoked');
      return page(c, <RevokeConfirmPage meta={consoleMeta(c, deps, 'tokens')} token={view(row, actor)} />);
    }
    // Confirmed twice (a double click, or another commander first): it is revoked either way.
    if (row.revoked_at === null) {
      const now = clock.now();
      await runWrite(deps, now, undefined, async (trx) => ({ status: 200, body: publicToken(await revokeToken(trx, now, id, actorLabel(actor))) }));
    }
    if (id === actor.tokenId) {
      // The session went with the token; do not leave its cookie behind.
      clearSessionCookie(c);
      return seeOther(c, '/console/signin?done=signed-out');
    }
    return seeOther(c, '/console/tokens?done=revoked');
  });

  return app;
}
