-- The commander console: browser sessions, one-time sign-in links, failed sign-ins per address,
-- and the key that signs session cookies (shared by every instance on this database).

create table console_sessions (
  id int4 generated always as identity primary key,
  secret_sha256 text not null unique,
  token_id int4 not null references api_tokens (id),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  ended_at timestamptz,
  address text not null
);

create table signin_links (
  id int4 generated always as identity primary key,
  secret_sha256 text not null unique,
  token_id int4 not null references api_tokens (id),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);

create table signin_failures (
  address text not null,
  at timestamptz not null
);

create index signin_failures_address_idx on signin_failures (address, at);

create table herald_keys (
  name text primary key,
  secret text not null,
  created_at timestamptz not null
);
