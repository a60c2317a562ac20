-- Email subscribers: double opt-in, per component, one-click unsubscribe.
--
-- Links in mails carry a random handle and an HMAC (herald_keys 'subscriber-links') naming what
-- the link may do (confirm, manage, unsubscribe): never the id, nothing to guess, nothing stored
-- that would let a database reader forge one without the key. Unsubscribing removes the address
-- (email and email_key become null); the row stays so that the audit can say it happened.

create table subscribers (
  id int4 generated always as identity primary key,
  handle text not null unique,
  email text check (length(email) <= 254),
  -- lower(email): one subscription per address.
  email_key text,
  -- The components followed (a JSON array of slugs); null: all.
  components jsonb,
  source text not null check (source in ('page', 'import')),
  created_at timestamptz not null,
  confirmed_at timestamptz,
  unsubscribed_at timestamptz,
  -- A hard bounce (5xx at RCPT): nothing more is sent.
  bounced_at timestamptz,
  bounce_reason text
);

create unique index subscribers_email_key on subscribers (email_key) where email_key is not null;

-- Sign-ups, for the rate limits: per address and per client, by a keyed hash (not the address).
create table subscribe_attempts (
  kind text not null check (kind in ('address', 'client')),
  key text not null,
  at timestamptz not null
);

create index subscribe_attempts_key on subscribe_attempts (kind, key, at);

-- One mail to one subscriber: a confirmation (notice_id null) or a notice's update.
create table mail_deliveries (
  id int4 generated always as identity primary key,
  subscriber_id int4 not null references subscribers (id),
  kind text not null check (kind in ('confirm', 'welcome', 'notice')),
  notice_id int4 references outbox_notices (id),
  created_at timestamptz not null,
  next_attempt_at timestamptz not null,
  attempts int4 not null default 0,
  delivered_at timestamptz,
  -- Given up: a hard bounce, or the subscriber left before it was sent.
  failed_at timestamptz,
  last_error text,
  unique (subscriber_id, notice_id)
);

create index mail_deliveries_due on mail_deliveries (next_attempt_at, id) where delivered_at is null and failed_at is null;

alter table outbox_notices add column mailed_at timestamptz;
-- Notices written before subscribers existed are nobody's to mail.
update outbox_notices set mailed_at = created_at;
create index outbox_notices_unmailed on outbox_notices (id) where mailed_at is null;
