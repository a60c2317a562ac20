import { describe, expect, it } from 'vitest';
import { MIGRATION_NAMES } from '../../src/db/migration-names.ts';
import { loadMigrations } from '../../src/db/migrator.ts';

describe('MIGRATION_NAMES (bundled for the Workers readiness check)', () => {
  it('lists exactly the migration files, in order', async () => {
    const onDisk = (await loadMigrations()).map((m) => m.name);
    expect(MIGRATION_NAMES).toEqual(onDisk);
  });
});
