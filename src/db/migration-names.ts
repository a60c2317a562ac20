/**
 * The names of the migrations in migrations/, in order, bundled into code for runtimes without a
 * filesystem (Cloudflare Workers): their readiness check needs every one recorded in
 * herald_migrations. test/workers/migration-names.test.ts keeps this list equal to the files.
 * Add a line here with every new migration.
 */
export const MIGRATION_NAMES: readonly string[] = [
  '0001_initial.sql',
  '0002_public_pages.sql',
  '0003_platform_modes.sql',
  '0004_maintenance.sql',
  '0005_public_page_indexes.sql',
  '0006_console.sql',
  '0007_override_until.sql',
  '0008_idempotency_status_unused.sql',
  '0009_incident_changes.sql',
  '0010_components.sql',
  '0011_webhooks.sql',
  '0012_alerts.sql',
  '0013_subscribers.sql',
  '0014_incident_stretches.sql',
];
