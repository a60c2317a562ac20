import { Hono, type Context } from 'hono';
import * as q from '../../db/queries/tokens.ts';
import type { TokenRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { SCOPES, type Actor, type Deps } from '../../services/deps.ts';
import { LINK_LIFETIME_MS } from '../../services/sessions.ts';
import { createToken, publicToken, requireScope, revokeToken } from '../../services/tokens.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import { RevokeConfirmPage, TokenCreatedPage, TokensPage, type TokenFormValues, type TokenVM } from '../../../templates/console/tokens-page.tsx';
import { idParam } from '../http.ts';
import { attempt, consoleMeta, list, page, readForm, seeOther, text } from './kit.ts';
import { clearSessionCookie, type ConsoleEnv } from './session.ts';

const view = (row: TokenRow, actor: Actor): TokenVM => ({ ...publicToken(row), self: row.id === actor.tokenId });

/**
 * /console/tokens (admin): the tokens, creating one (its secret shown once, with a one-time
 * sign-in link), and revoking one after a confirmation. The same use cases as /api/v1/tokens.
 */
export function consoleTokens(deps: Deps) {
  const { db, config } = deps;
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
    const result = await attempt(() => createToken(deps, { actor }, values));
    if (!result.ok) return tokensPage(c, values, result.errors, result.status);
    const { token: secret, signin_url: signinUrl, signin_expires_at: _, ...made } = result.value;
    return page(
      c,
      <TokenCreatedPage
        meta={consoleMeta(c, deps, 'tokens')}
        token={{ ...made, self: made.id === actor.tokenId }}
        secret={secret}
        signinUrl={signinUrl}
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
    if (!row) throw new AppError('token.not_found', `Token ${id} was not found.`);
    if (text(form, 'intent') !== 'confirm') {
      if (row.revoked_at !== null) return seeOther(c, '/console/tokens?done=revoked');
      return page(c, <RevokeConfirmPage meta={consoleMeta(c, deps, 'tokens')} token={view(row, actor)} />);
    }
    // Confirmed twice (a double click, or another commander first): it is revoked either way.
    if (row.revoked_at === null) await revokeToken(deps, { actor }, id);
    if (id === actor.tokenId) {
      // The session went with the token; do not leave its cookie behind.
      clearSessionCookie(c);
      return seeOther(c, '/console/signin?done=signed-out');
    }
    return seeOther(c, '/console/tokens?done=revoked');
  });

  return app;
}
