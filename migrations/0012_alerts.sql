-- Intake: alerts from Prometheus Alertmanager and Grafana open and update incidents.
--
-- A rule says which alerts matter and what they mean for the page. Rules are versioned: every
-- change writes the whole rule as a new row of alert_rule_versions, and the inbox names the
-- version that decided, so "why did the page say that" has an answer after the rule changed.
-- A removed rule is marked, not deleted.

create table alert_rules (
  id int4 generated always as identity primary key,
  name text not null check (length(name) between 1 and 200),
  -- Lower runs first: a notification is handled by the first enabled rule that matches one of its alerts.
  position int4 not null,
  -- 'alertmanager', 'grafana', or null: both.
  source text check (source in ('alertmanager', 'grafana')),
  -- Label matchers in Alertmanager's syntax, as the author wrote them.
  matchers text not null,
  -- Where the component comes from: a label of the alert, or fixed.
  component_label text,
  component_fixed text,
  status text not null,
  modes jsonb not null default '{}',
  auto_resolve boolean not null default false,
  quiet_period_minutes int4 not null default 30 check (quiet_period_minutes between 0 and 10080),
  title_template text,
  opened_template text,
  added_template text,
  recovered_template text,
  enabled boolean not null default true,
  version int4 not null default 1,
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null,
  removed_at timestamptz,
  check ((component_label is null) <> (component_fixed is null))
);

create table alert_rule_versions (
  rule_id int4 not null references alert_rules (id),
  version int4 not null,
  -- The rule as it was saved (the API's view of it).
  rule jsonb not null,
  changed_at timestamptz not null,
  changed_by text not null,
  primary key (rule_id, version)
);

-- One alert group (Alertmanager's groupKey) as one rule sees it: the incident it has open, the
-- alerts known of it by fingerprint, and the updates the intake itself posted (any other update
-- is a human's: the intake then never resolves the incident).
create table alert_groups (
  rule_id int4 not null references alert_rules (id),
  source text not null,
  group_key text not null,
  incident_id int4 references incidents (id),
  known jsonb not null default '{}',
  posted jsonb not null default '[]',
  updated_at timestamptz not null,
  primary key (rule_id, source, group_key)
);

-- Every notification received and what it did, kept HERALD_ALERT_INBOX_DAYS days.
create table alert_inbox (
  id int8 generated always as identity primary key,
  received_at timestamptz not null,
  source text not null,
  group_key text,
  status text,
  alerts int4 not null default 0,
  rule_id int4,
  rule_version int4,
  -- opened, updated, recovered, resolved, ignored, unmatched, invalid, refused
  outcome text not null,
  incident_id int4,
  reason text,
  notes jsonb not null default '[]',
  -- The body as received (at most 64 KiB of it).
  payload text not null
);

create index alert_inbox_received on alert_inbox (received_at desc, id desc);
