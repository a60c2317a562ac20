-- Platform modes: manual overrides per role, and the history of every change of a role's
-- effective mode with its cause. Rows are never deleted: clearing an override stamps it.

create table mode_overrides (
  id int4 generated always as identity primary key,
  role text not null,
  mode text not null check (mode in ('read_only', 'maintenance')),
  reason text not null,
  set_at timestamptz not null,
  set_by text not null,
  cleared_at timestamptz,
  cleared_by text,
  clear_reason text
);

create unique index mode_overrides_active_idx on mode_overrides (role) where cleared_at is null;

create table mode_changes (
  id int4 generated always as identity primary key,
  role text not null,
  from_mode text not null,
  to_mode text not null,
  at timestamptz not null,
  sources jsonb not null,
  cause text not null
);

create index mode_changes_role_idx on mode_changes (role, id desc);
