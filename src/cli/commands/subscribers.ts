import type { SubscriberView } from '../../services/subscribers.ts';
import { CliFailure } from '../client.ts';
import type { CommandSpec, Context } from '../command.ts';
import { idArg, readTextFile } from '../input.ts';
import { table, when } from '../output.ts';

/**
 * Email subscribers on /api/v1/subscribers (admin token): `subscribers` lists them with how many
 * are confirmed, `subscribers:export` prints the CSV, `subscribers:import` takes a list (confirmed
 * addresses, no confirmation mail), `subscribers:remove` forgets one. The routes take no
 * Idempotency-Key (an import is all or nothing, and counts what was already there), so none is sent.
 */

interface SubscriberList {
  readonly count: number;
  readonly confirmed: number;
  readonly subscribers: readonly SubscriberView[];
}

const componentsText = (s: SubscriberView) => (s.components === null ? 'all' : s.components.join(','));

/** "subscribers.3.email" is the fourth row after the header: said so, as the console does. */
function rowLine(problem: { path?: unknown; message?: unknown }): string {
  const row = /^subscribers\.(\d+)(?:\.([a-z_]+))?/.exec(typeof problem.path === 'string' ? problem.path : '');
  const message = String(problem.message);
  return row ? `row ${Number(row[1]) + 1}${row[2] ? `, ${row[2]}` : ''}: ${message}` : message;
}

const subscribersList: CommandSpec = {
  name: 'subscribers',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  summary: 'the email subscribers: state, components, when; how many are confirmed',
  usage: 'subscribers [--json]',
  description: ['Lists everyone subscribed by email, oldest first. stderr says how many, how many are confirmed, and why any address bounced.'],
  examples: ['herald subscribers'],
  async run(ctx) {
    const { body } = await ctx.client().request<SubscriberList>('GET', '/api/v1/subscribers', { auth: true });
    if (ctx.flag('json')) return ctx.o.json(body);
    if (body.count === 0) return ctx.o.err('No subscribers yet: people sign up on the status page\'s /subscribe, or import a list: herald subscribers:import FILE');
    const p = ctx.o.colour.stdout;
    ctx.o.out(...table(body.subscribers.map((s) => [String(s.id), s.email, s.state, componentsText(s), when(s.created_at)]), ['ID', 'EMAIL', 'STATE', 'COMPONENTS', 'CREATED'], p));
    ctx.o.err(`${body.count} subscriber${body.count === 1 ? '' : 's'}, ${body.confirmed} confirmed.`);
    for (const s of body.subscribers.filter((x) => x.state === 'bounced')) ctx.o.err(`#${s.id} bounced ${when(s.bounced_at)}${s.bounce_reason ? `: ${s.bounce_reason}` : ''}`);
  },
};

const subscribersExport: CommandSpec = {
  name: 'subscribers:export',
  kind: 'write', // needs an admin token; writes nothing
  withoutKey: true,
  summary: 'every subscriber as CSV (email, state, components, created_at, confirmed_at)',
  usage: 'subscribers:export [--json]',
  description: [
    'Prints the CSV (RFC 4180, CRLF line ends) the console\'s "Download CSV" gives: email, state,',
    'components (space-separated; empty: every component), created_at, confirmed_at. A value that a',
    'spreadsheet would take for a formula is quoted and starts with \'. --json prints the list instead.',
  ],
  examples: ['herald subscribers:export > subscribers.csv'],
  async run(ctx) {
    if (ctx.flag('json')) return ctx.o.json((await ctx.client().request<SubscriberList>('GET', '/api/v1/subscribers', { auth: true })).body);
    const { body } = await ctx.client().request<string>('GET', '/api/v1/subscribers/export.csv', { auth: true, answer: 'csv' });
    ctx.io.stdout.write(body);
  },
};

async function importFrom(ctx: Context, csv: string) {
  try {
    return (await ctx.client().request<{ imported: number; existing: number }>('POST', '/api/v1/subscribers/import', { auth: true, text: { body: csv, contentType: 'text/csv; charset=utf-8' } })).body;
  } catch (error) {
    const errors = (error as { body?: { errors?: unknown } }).body?.errors;
    if (error instanceof CliFailure && error.status === 400 && Array.isArray(errors) && errors.length > 0) throw new CliFailure(errors.map(rowLine), error.status, error.body);
    throw error;
  }
}

const subscribersImport: CommandSpec = {
  name: 'subscribers:import',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'import a list of confirmed addresses from CSV (no confirmation mail)',
  usage: 'subscribers:import FILE|- [--json]',
  description: [
    'Reads CSV from FILE (- for stdin) with a header row naming an "email" column and, optionally,',
    '"components" (slugs separated by spaces; empty: every component). The addresses are taken as',
    'confirmed and sent no confirmation mail; those already subscribed are counted and left as they',
    'are. All or nothing: every wrong row is listed (rows counted after the header) and nothing is saved.',
  ],
  examples: ['herald subscribers:import subscribers.csv', 'printf \'email,components\\nops@example.com,production\\n\' | herald subscribers:import -'],
  async run(ctx) {
    const csv = await readTextFile(ctx, 'file', ctx.args[0]!, 'the CSV');
    const done = await importFrom(ctx, csv);
    if (ctx.flag('json')) return ctx.o.json(done);
    ctx.o.err(`Imported ${done.imported}, ${done.existing} already subscribed.`);
  },
};

const subscribersRemove: CommandSpec = {
  name: 'subscribers:remove',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'remove a subscriber: nothing more is sent, and the address is forgotten',
  usage: 'subscribers:remove ID',
  description: ['Removes subscriber ID (see herald subscribers) and drops any mail still queued for it. The audit log keeps only that it was removed, and by whom. stdout: the id.'],
  examples: ['herald subscribers:remove 12'],
  async run(ctx) {
    const id = idArg(ctx);
    await ctx.client().request('DELETE', `/api/v1/subscribers/${id}`, { auth: true });
    if (ctx.flag('json')) return ctx.o.json({ id: Number(id), removed: true });
    ctx.o.out(id);
    ctx.o.err(`Removed subscriber #${id}; nothing more is sent to the address, and it is forgotten.`);
  },
};

export const subscriberCommands: readonly CommandSpec[] = [subscribersList, subscribersExport, subscribersImport, subscribersRemove];
