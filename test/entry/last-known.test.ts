import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepKey, LAST_KNOWN_FILE, LastKnownWriter, readLastKnown } from '../../src/entry/last-known.ts';
import type { PublicData } from '../../src/services/public-data.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'herald-last-known-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Enough of PublicData's shapes to show they come back as they went: nested objects, arrays, Dates, null. */
const data = (title: string) =>
  ({ pageId: 'p1', lastChange: null, recent: [{ id: 7, title, startedAt: new Date('2026-11-30T10:00:00Z'), tags: ['a', 'b'] }], platform: [], bars: [], feed: [], status: { overall: 'green' }, catalog: { components: [], groups: [] } }) as unknown as PublicData;

const state = (title: string, at: string) => ({ data: data(title), version: 1, builtAt: new Date(at), staleSince: null });

describe('the public data kept on disk', () => {
  it('comes back as it was written, under the same key', async () => {
    const writer = new LastKnownWriter(dir, 'k1', () => {});
    writer.offer(state('Database slow', '2026-11-30T10:05:00Z'));
    await writer.close();
    const got = await readLastKnown(dir, 'k1');
    expect(got?.builtAt).toEqual(new Date('2026-11-30T10:05:00Z'));
    expect(got?.data).toEqual(data('Database slow'));
  });

  it('is not read under another key (another build of Herald, or another database)', async () => {
    const writer = new LastKnownWriter(dir, 'k1', () => {});
    writer.offer(state('Database slow', '2026-11-30T10:05:00Z'));
    await writer.close();
    expect(await readLastKnown(dir, 'k2')).toBeUndefined();
  });

  it('is undefined when there is no file, or the file is not one Herald wrote', async () => {
    expect(await readLastKnown(dir, 'k1')).toBeUndefined();
    await writeFile(join(dir, LAST_KNOWN_FILE), 'not a serialized value');
    expect(await readLastKnown(dir, 'k1')).toBeUndefined();
    await writeFile(join(dir, LAST_KNOWN_FILE), v8.serialize({ format: 1, key: 'k1', builtAt: 'yesterday', data: {} }));
    expect(await readLastKnown(dir, 'k1')).toBeUndefined();
  });

  it('writes only the newest of the builds offered within a second, and leaves no temporary file', async () => {
    const writer = new LastKnownWriter(dir, 'k1', () => {});
    writer.offer(state('first', '2026-11-30T10:00:00Z'));
    writer.offer(state('second', '2026-11-30T10:00:01Z'));
    writer.offer(state('third', '2026-11-30T10:00:02Z'));
    expect(await readLastKnown(dir, 'k1')).toBeUndefined(); // nothing written yet: within the second
    await writer.close();
    expect((await readLastKnown(dir, 'k1'))?.data).toEqual(data('third'));
    expect(await readdir(dir)).toEqual([LAST_KNOWN_FILE]);
  });

  it('removes the temporary file a killed writer left, and leaves a live writer\'s alone', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const leftover = `${LAST_KNOWN_FILE}.${dead}.tmp`;
    const live = `${LAST_KNOWN_FILE}.${process.ppid}.tmp`;
    await writeFile(join(dir, leftover), 'half a file');
    await writeFile(join(dir, live), 'being written');
    const writer = new LastKnownWriter(dir, 'k1', () => {});
    writer.offer(state('first', '2026-11-30T10:00:00Z'));
    await writer.close();
    expect((await readdir(dir)).sort()).toEqual([LAST_KNOWN_FILE, live].sort());
  });

  it('reports a failed write once and never throws', async () => {
    const errors: unknown[] = [];
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const writer = new LastKnownWriter(join(file, 'under-a-file'), 'k1', (error) => errors.push(error));
    writer.offer(state('first', '2026-11-30T10:00:00Z'));
    await writer.close();
    expect(errors).toHaveLength(1);
  });

  it('is keyed by the database: the embedded one, or a Postgres URL whatever its password', () => {
    const embedded = keepKey(undefined);
    expect(embedded).toMatch(/^[0-9a-f]{16}:embedded$/);
    const a = keepKey('postgres://herald:one@db.internal:5432/status');
    expect(a).toBe(keepKey('postgres://herald:two@db.internal:5432/status'));
    expect(a).not.toBe(keepKey('postgres://herald:one@db.internal:5432/other'));
    expect(a).not.toContain('one');
  });
});
