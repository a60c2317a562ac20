import type { State } from '../domain/vocabulary.ts';
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** jsonb: written as a JSON string, read back parsed by both drivers. */
type Json<T> = ColumnType<T, string, string>;

export type StatusMap = Readonly<Record<string, string>>;

export interface EnvironmentsTable {
  slug: string;
  name: string;
  /** Among the top-level items (groups and ungrouped environments), or within its group. */
  position: number;
  description: string | null;
  group_slug: string | null;
  only_show_if_degraded: Generated<boolean>;
  showcase: Generated<boolean>;
  /** A date; read it as text (`start_date::text`): the drivers would make a local-midnight Date of it. */
  start_date: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  retired_at: Date | null;
}

export interface EnvironmentGroupsTable {
  slug: string;
  name: string;
  description: string | null;
  position: number;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  retired_at: Date | null;
}

export interface HeraldSettingsTable {
  name: string;
  value: string;
}

export interface IncidentsTable {
  id: Generated<number>;
  kind: 'incident' | 'maintenance';
  title: string;
  state: State;
  started_at: Date;
  resolved_at: Date | null;
  updated_at: Date;
  created_at: Date;
  created_by: string;
  scheduled_for: Date | null;
  scheduled_until: Date | null;
  required_by: Date | null;
  postmortem: string | null;
  postmortem_updated_at: Date | null;
  postmortem_published_at: Date | null;
  /** Set by a commander; null: derived from the worst status declared. */
  impact: 'none' | 'minor' | 'major' | 'critical' | null;
  auto_start: Generated<boolean>;
  auto_complete: Generated<boolean>;
  schedule_method: 'explicit' | 'window' | 'run' | null;
}

export interface IncidentUpdatesTable {
  id: Generated<number>;
  incident_id: number;
  at: Date;
  created_at: Date;
  state: State;
  message: string;
  statuses: Json<StatusMap>;
  modes: Json<StatusMap>;
  author: string;
  hidden_at: Date | null;
  hidden_reason: string | null;
}

/** Which transaction last changed each incident (kept by triggers: migrations/0009). */
export interface IncidentChangesTable {
  incident_id: number;
  /** xid8, read as text. */
  changed_xid: string;
}

/** Each closed incident's stretches for the 90-day bars (derived; deleted by any write to the incident: migrations/0014). */
export interface IncidentStretchesTable {
  incident_id: number;
  stretches: Json<unknown>;
}

export interface ApiTokensTable {
  id: Generated<number>;
  key_id: string;
  name: string;
  secret_sha256: string;
  scopes: string[];
  created_at: Date;
  created_by: string;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface IdempotencyKeysTable {
  token_id: number;
  key: string;
  fingerprint: string;
  /** Unused since 0008: the answering route knows its status. */
  status: number | null;
  body: Json<unknown>;
  created_at: Date;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Date;
  actor: string;
  action: string;
  target: string;
  before: Json<unknown> | null;
  after: Json<unknown> | null;
}

export interface ModeOverridesTable {
  id: Generated<number>;
  role: string;
  mode: 'read_only' | 'maintenance';
  reason: string;
  set_at: Date;
  set_by: string;
  cleared_at: Date | null;
  cleared_by: string | null;
  clear_reason: string | null;
  /** When the operator expects to be done (a hint for Retry-After; it does not end the override). */
  until: Date | null;
  /** Browsers on the maintenance page reload it this often (the Refresh header). */
  refresh_seconds: number | null;
}

export interface ModeChangesTable {
  id: Generated<number>;
  role: string;
  from_mode: string;
  to_mode: string;
  at: Date;
  sources: Json<readonly string[]>;
  cause: string;
}

export interface MaintenanceWindowTable {
  id: number;
  day: number;
  minute: number;
  duration_minutes: number;
  set_at: Date;
  set_by: string;
}

export interface ConsoleSessionsTable {
  id: Generated<number>;
  secret_sha256: string;
  token_id: number;
  created_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  address: string;
}

export interface SigninLinksTable {
  id: Generated<number>;
  secret_sha256: string;
  token_id: number;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export interface SigninFailuresTable {
  address: string;
  at: Date;
}

export interface HeraldKeysTable {
  name: string;
  secret: string;
  created_at: Date;
}

export interface MigrationsTable {
  name: string;
  sha256: string;
  applied_at: Date;
}

export interface WebhookSubscriptionsTable {
  id: Generated<number>;
  url: string;
  format: 'herald' | 'statuspage' | 'slack' | 'discord';
  events: Json<readonly string[]>;
  environments: ColumnType<readonly string[] | null, string | null, string | null>;
  description: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  created_at: Date;
  created_by: string;
  updated_at: Date;
  disabled_at: Date | null;
  disabled_reason: string | null;
  failures: Generated<number>;
  failing_since: Date | null;
  lease_until: Date | null;
  lease_owner: string | null;
  removed_at: Date | null;
}

export interface OutboxNoticesTable {
  id: Generated<number>;
  created_at: Date;
  type: string;
  environments: Json<readonly string[]>;
  notice: Json<unknown>;
  fanned_out_at: Date | null;
  /** Set once its mails to subscribers exist (or it is none of theirs). */
  mailed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  message_id: string;
  subscription_id: number;
  notice_id: number;
  created_at: Date;
  next_attempt_at: Date;
  attempts: Generated<number>;
  delivered_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  at: Date;
  status: number | null;
  latency_ms: number;
  error: string | null;
  excerpt: string;
  sender: string;
}

export interface Database {
  environments: EnvironmentsTable;
  environment_groups: EnvironmentGroupsTable;
  herald_settings: HeraldSettingsTable;
  incidents: IncidentsTable;
  incident_updates: IncidentUpdatesTable;
  incident_changes: IncidentChangesTable;
  incident_stretches: IncidentStretchesTable;
  api_tokens: ApiTokensTable;
  idempotency_keys: IdempotencyKeysTable;
  audit_log: AuditLogTable;
  herald_migrations: MigrationsTable;
  mode_overrides: ModeOverridesTable;
  mode_changes: ModeChangesTable;
  maintenance_window: MaintenanceWindowTable;
  console_sessions: ConsoleSessionsTable;
  signin_links: SigninLinksTable;
  signin_failures: SigninFailuresTable;
  herald_keys: HeraldKeysTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  outbox_notices: OutboxNoticesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  alert_rules: AlertRulesTable;
  alert_rule_versions: AlertRuleVersionsTable;
  alert_groups: AlertGroupsTable;
  alert_inbox: AlertInboxTable;
  subscribers: SubscribersTable;
  subscribe_attempts: SubscribeAttemptsTable;
  mail_deliveries: MailDeliveriesTable;
}

export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;

export type EnvironmentRow = Selectable<EnvironmentsTable>;
export type EnvironmentGroupRow = Selectable<EnvironmentGroupsTable>;

export type SessionRow = Selectable<ConsoleSessionsTable>;

export type OverrideRow = Selectable<ModeOverridesTable>;
export type ModeChangeRow = Selectable<ModeChangesTable>;

export type IncidentRow = Selectable<IncidentsTable>;
export type UpdateRow = Selectable<IncidentUpdatesTable>;
export type TokenRow = Selectable<ApiTokensTable>;
export type NewAudit = Insertable<AuditLogTable>;

export interface AlertRulesTable {
  id: Generated<number>;
  name: string;
  position: number;
  source: 'alertmanager' | 'grafana' | null;
  matchers: string;
  component_label: string | null;
  component_fixed: string | null;
  status: string;
  modes: Json<Readonly<Record<string, string>>>;
  auto_resolve: boolean;
  quiet_period_minutes: number;
  title_template: string | null;
  opened_template: string | null;
  added_template: string | null;
  recovered_template: string | null;
  enabled: boolean;
  version: number;
  created_at: Date;
  created_by: string;
  updated_at: Date;
  removed_at: Date | null;
}

export interface AlertRuleVersionsTable {
  rule_id: number;
  version: number;
  rule: Json<unknown>;
  changed_at: Date;
  changed_by: string;
}

export interface AlertGroupsTable {
  rule_id: number;
  source: string;
  group_key: string;
  incident_id: number | null;
  known: Json<Readonly<Record<string, { status: 'firing' | 'resolved'; startsAt: string; endsAt: string | null; component: string; seen?: string }>>>;
  posted: Json<readonly number[]>;
  updated_at: Date;
}

export interface AlertInboxTable {
  id: Generated<string>;
  received_at: Date;
  source: string;
  group_key: string | null;
  status: string | null;
  alerts: number;
  rule_id: number | null;
  rule_version: number | null;
  outcome: string;
  incident_id: number | null;
  reason: string | null;
  notes: Json<readonly string[]>;
  payload: string;
}

export type AlertRuleRow = Selectable<AlertRulesTable>;
export type AlertGroupRow = Selectable<AlertGroupsTable>;
export type AlertInboxRow = Selectable<AlertInboxTable>;

export interface SubscribersTable {
  id: Generated<number>;
  handle: string;
  email: string | null;
  email_key: string | null;
  components: ColumnType<readonly string[] | null, string | null, string | null>;
  source: 'page' | 'import';
  created_at: Date;
  confirmed_at: Date | null;
  unsubscribed_at: Date | null;
  bounced_at: Date | null;
  bounce_reason: string | null;
}

export interface SubscribeAttemptsTable {
  kind: 'address' | 'client';
  key: string;
  at: Date;
}

export interface MailDeliveriesTable {
  id: Generated<number>;
  subscriber_id: number;
  kind: 'confirm' | 'welcome' | 'notice';
  notice_id: number | null;
  created_at: Date;
  next_attempt_at: Date;
  attempts: Generated<number>;
  delivered_at: Date | null;
  failed_at: Date | null;
  last_error: string | null;
}

export type SubscriberRow = Selectable<SubscribersTable>;
export type MailDeliveryRow = Selectable<MailDeliveriesTable>;
