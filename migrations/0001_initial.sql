-- Herald's first schema. Frozen: change the schema with a new numbered file, never by editing this one.
-- One statement per chunk; the migrator splits on a semicolon that ends a line.

create table environments (
  slug text primary key,
  name text not null,
  position int4 not null
);

create table incidents (
  id int4 generated always as identity primary key,
  kind text not null default 'incident' check (kind in ('incident', 'maintenance')),
  title text not null check (length(title) between 1 and 200),
  state text not null,
  -- when the first update says it began (may be backdated); recomputed from the timeline
  started_at timestamptz not null,
  -- the at of the update that closed it, null while open; recomputed from the timeline
  resolved_at timestamptz,
  -- the at of the newest update, or of the last edit
  updated_at timestamptz not null,
  created_at timestamptz not null,
  created_by text not null,
  scheduled_for timestamptz,
  scheduled_until timestamptz,
  required_by timestamptz,
  postmortem text,
  postmortem_updated_at timestamptz,
  postmortem_published_at timestamptz
);

create index incidents_open_idx on incidents (id) where resolved_at is null;

create index incidents_started_idx on incidents (started_at desc, id desc);

create table incident_updates (
  id int4 generated always as identity primary key,
  incident_id int4 not null references incidents (id),
  at timestamptz not null,
  created_at timestamptz not null,
  state text not null,
  message text not null,
  statuses jsonb not null default '{}'::jsonb,
  modes jsonb not null default '{}'::jsonb,
  author text not null,
  hidden_at timestamptz,
  hidden_reason text
);

create index incident_updates_timeline_idx on incident_updates (incident_id, at, id);

create index incident_updates_at_idx on incident_updates (at desc, id desc);

create table api_tokens (
  id int4 generated always as identity primary key,
  key_id text not null unique,
  name text not null,
  secret_sha256 text not null,
  scopes text[] not null,
  created_at timestamptz not null,
  created_by text not null,
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table idempotency_keys (
  token_id int4 not null references api_tokens (id),
  key text not null,
  fingerprint text not null,
  status int4 not null,
  body jsonb not null,
  created_at timestamptz not null,
  primary key (token_id, key)
);

create table audit_log (
  id int4 generated always as identity primary key,
  at timestamptz not null,
  actor text not null,
  action text not null,
  target text not null,
  before jsonb,
  after jsonb
);

create index audit_log_target_idx on audit_log (target, id);
