-- Scheduled maintenance: the weekly window (one row), and how each maintenance is run.

create table maintenance_window (
  id int4 primary key check (id = 1),
  day int4 not null check (day between 0 and 6),
  minute int4 not null check (minute between 0 and 1439),
  duration_minutes int4 not null default 240 check (duration_minutes between 15 and 1440),
  set_at timestamptz not null,
  set_by text not null
);

alter table incidents add column auto_start boolean not null default true;

alter table incidents add column auto_complete boolean not null default true;

-- how scheduled_for was chosen: 'explicit' (given), 'window' (from required_by), 'run' (started by hand)
alter table incidents add column schedule_method text;

create index incidents_scheduled_idx on incidents (scheduled_for) where kind = 'maintenance' and resolved_at is null;
