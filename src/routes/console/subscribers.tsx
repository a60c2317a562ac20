import { Hono, type Context } from 'hono';
import type { Deps } from '../../services/deps.ts';
import * as subs from '../../services/subscribers.ts';
import { requireScope } from '../../services/tokens.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import { RemoveConfirmPage, SubscribersPage } from '../../../templates/console/subscribers-page.tsx';
import { idParam } from '../http.ts';
import { attempt, consoleMeta, formCommand, newFormKey, page, readForm, seeOther, text } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

type Status = 200 | 400 | 403 | 404 | 409 | 422;

const NOTICES: Readonly<Record<string, string>> = {
  'subscriber-removed': 'Subscriber removed. Nothing more is sent to the address, and it is forgotten.',
};

/** "Imported 3, 1 already subscribed": counts from the redirect after an import (digits only, never text from the URL). */
function importNotice(c: Context<ConsoleEnv>): string | undefined {
  const imported = c.req.query('imported');
  const existing = c.req.query('existing');
  if (c.req.query('done') !== 'imported' || !/^\d{1,6}$/.test(imported ?? '') || !/^\d{1,6}$/.test(existing ?? '')) return undefined;
  return `Imported ${Number(imported)}, ${Number(existing)} already subscribed.`;
}

/**
 * An import's problems beside the field they came from: "subscribers.3.email" is the fourth row
 * after the header; what concerns the whole text (no "email" column) is said as it is.
 */
function importErrors(errors: Errors, field: 'csv' | 'file'): Errors {
  const out: string[] = [];
  for (const [path, messages] of Object.entries(errors)) {
    const row = /^subscribers\.(\d+)(?:\.([a-z_]+))?/.exec(path);
    for (const message of messages) out.push(row ? `Row ${Number(row[1]) + 1}${row[2] ? `, ${row[2]}` : ''}: ${message}` : message);
  }
  return { [field]: out };
}

/**
 * /console/subscribers (admin, as the API's /api/v1/subscribers): how many subscribers and how
 * many confirmed, each with its state and components, the CSV export, importing a list
 * (confirmed, no mail), and removing one. The same use cases as the API.
 */
export function consoleSubscribers(deps: Deps) {
  const app = new Hono<ConsoleEnv>();

  /** Every handler checks the scope itself (a 403 page from the console's error handler). */
  const admin = (c: Context<ConsoleEnv>) => requireScope(c.get('actor'), 'admin');
  /** Components are checked against the database's list now, as the console shows them. */
  const live = (c: Context<ConsoleEnv>): Deps => ({ ...deps, config: c.get('config') });
  const meta = (c: Context<ConsoleEnv>) => ({ ...consoleMeta(c, deps, 'subscribers'), notice: NOTICES[c.req.query('done') ?? ''] ?? importNotice(c) });

  async function listPage(c: Context<ConsoleEnv>, rejected: { csv: string; errors: Errors } = { csv: '', errors: {} }, status: Status = 200) {
    const { count, confirmed, subscribers } = await subs.listSubscribers(deps);
    return page(c, <SubscribersPage meta={meta(c)} count={count} confirmed={confirmed} subscribers={subscribers} importForm={{ ...rejected, formKey: newFormKey() }} />, status);
  }

  app.get('/', (c) => {
    admin(c);
    return listPage(c);
  });

  /** The same CSV as the API's /api/v1/subscribers/export.csv, for a signed-in commander. */
  app.get('/export.csv', async (c) => {
    admin(c);
    const csv = await subs.exportCsv(deps);
    c.header('Content-Disposition', 'attachment; filename="subscribers.csv"');
    c.header('Cache-Control', 'no-store');
    c.header('X-Robots-Tag', 'noindex');
    return c.body(csv, 200, { 'Content-Type': 'text/csv; charset=utf-8' });
  });

  /** A file chosen wins over pasted text; either way the rows go through the API's import. */
  app.post('/import', async (c) => {
    admin(c);
    const form = await readForm(c);
    const file = (await c.req.parseBody({ all: true })).file;
    const chosen = (Array.isArray(file) ? file : [file]).find((f): f is File => f instanceof File && f.size > 0);
    const csv = text(form, 'csv');
    const field = chosen ? 'file' : 'csv';
    const body = chosen ? await chosen.text() : csv;
    if (body.trim() === '') return listPage(c, { csv, errors: { csv: ['Paste CSV with a header row (email,components), or choose a file.'] } }, 400);
    // The idempotency key covers the pasted text, not a chosen file's: a file is imported without one.
    const command = chosen ? { actor: c.get('actor') } : await formCommand(c, form);
    const done = await attempt(() => subs.importSubscribers(live(c), command, body));
    if (!done.ok) return listPage(c, { csv, errors: importErrors(done.errors, field) }, done.status);
    return seeOther(c, `/console/subscribers?done=imported&imported=${done.value.imported}&existing=${done.value.existing}`);
  });

  /** First POST asks ("Remove subscriber #N?"); the second, with intent=confirm, removes. */
  app.post('/:id/remove', async (c) => {
    admin(c);
    const id = idParam(c, 'id', 'Subscriber');
    const form = await readForm(c);
    if (text(form, 'intent') !== 'confirm') return page(c, <RemoveConfirmPage meta={meta(c)} subscriber={await subs.getSubscriber(deps, id)} />);
    // Confirmed twice (a double click, or another commander first): it is removed either way.
    const removed = await attempt(() => subs.removeSubscriber(deps, { actor: c.get('actor') }, id));
    if (!removed.ok && removed.status !== 404) return listPage(c, undefined, removed.status);
    return seeOther(c, '/console/subscribers?done=subscriber-removed');
  });

  return app;
}
