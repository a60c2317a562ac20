import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, type ErrorCode } from '../../src/errors.ts';
import { EVENTS } from '../../src/services/events.ts';

const architecture = () => readFile(new URL('../../docs/ARCHITECTURE.md', import.meta.url), 'utf8');

/** The rows of the Markdown table whose first column is a code: `code` → the other cells. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    const m = /^\| `([a-z_.]+)` \|(.*)\|$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split('|').map((c) => c.trim()));
  }
  return rows;
}

describe('error codes and events are documented', () => {
  it('docs/ARCHITECTURE.md lists every error code with its id and status, and no code that does not exist', async () => {
    const rows = tableRows(await architecture());
    for (const [code, [id, status]] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code)?.slice(0, 2), code).toEqual([id, String(status)]);
    }
    const documented = [...rows.keys()].filter((k) => k.includes('.') && !(k in EVENTS));
    expect(documented.filter((k) => !(k in ERROR_CODES))).toEqual([]);
  });

  it('docs/ARCHITECTURE.md lists every domain event, public or not', async () => {
    const rows = tableRows(await architecture());
    for (const [name, { public: open }] of Object.entries(EVENTS)) {
      expect(rows.get(name)?.[0], name).toBe(open ? 'yes' : 'no');
    }
  });

  it("an AppError's JSON carries the generic id, the code and the status from the one table", () => {
    const e = new AppError('maintenance.already_completed' satisfies ErrorCode, 'Maintenance 3 is already completed.');
    expect(e.status).toBe(409);
    expect(e.toJSON()).toEqual({ id: 'conflict', code: 'maintenance.already_completed', message: 'Maintenance 3 is already completed.' });
  });
});
