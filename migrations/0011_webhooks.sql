-- Push: webhook subscriptions and the transactional outbox that feeds them.
--
-- A write that others should hear of inserts its notices (what happened, frozen as JSON) in its
-- own transaction: nothing is announced that did not commit, nothing committed goes unannounced.
-- The dispatcher fans each notice out into one delivery per matching subscription, then sends
-- them: at least once, in order per subscription, every attempt logged. A subscription is leased
-- by one sender at a time (lease_until), so many instances on one Postgres send each delivery
-- once and in order. History stays: a removed subscription is marked, not deleted.

create table webhook_subscriptions (
  id int4 generated always as identity primary key,
  url text not null check (length(url) <= 2000),
  format text not null check (format in ('herald', 'statuspage', 'slack', 'discord')),
  -- The notice types it wants (a JSON array of strings).
  events jsonb not null,
  -- The components it follows (a JSON array of slugs); null: all.
  environments jsonb,
  description text check (length(description) <= 500),
  -- Standard Webhooks secrets (whsec_…): the signing key must be readable to sign, so it is
  -- stored as is and shown once. The previous one signs too until previous_secret_until.
  secret text not null,
  previous_secret text,
  previous_secret_until timestamptz,
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null,
  disabled_at timestamptz,
  disabled_reason text,
  -- The current run of failed attempts: how many, since when.
  failures int4 not null default 0,
  failing_since timestamptz,
  lease_until timestamptz,
  lease_owner text,
  removed_at timestamptz
);

create table outbox_notices (
  id int4 generated always as identity primary key,
  created_at timestamptz not null,
  type text not null,
  -- The components it concerns (a JSON array of slugs; empty: none in particular).
  environments jsonb not null,
  notice jsonb not null,
  -- Set once its deliveries exist.
  fanned_out_at timestamptz
);

create index outbox_notices_pending on outbox_notices (id) where fanned_out_at is null;

create table webhook_deliveries (
  id int4 generated always as identity primary key,
  -- webhook-id: the same on every retry, so receivers can drop a duplicate.
  message_id text not null unique,
  subscription_id int4 not null references webhook_subscriptions (id),
  notice_id int4 not null references outbox_notices (id),
  created_at timestamptz not null,
  next_attempt_at timestamptz not null,
  attempts int4 not null default 0,
  delivered_at timestamptz,
  unique (subscription_id, notice_id)
);

create index webhook_deliveries_pending on webhook_deliveries (subscription_id, id) where delivered_at is null;

create table webhook_attempts (
  id int4 generated always as identity primary key,
  delivery_id int4 not null references webhook_deliveries (id),
  at timestamptz not null,
  status int4,
  latency_ms int4 not null,
  error text,
  -- The first bytes of the answer.
  excerpt text not null,
  -- Which Herald process sent it.
  sender text not null
);

create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);
