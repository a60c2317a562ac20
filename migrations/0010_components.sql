-- Components (Herald's environments, Heroku's systems) become data that commanders manage: a
-- description, a group, an order, "only show if degraded", a start date for the 90-day bars, and
-- retirement instead of deletion (a retired environment keeps its incidents, bars and the scope
-- of impact that names it). HERALD_ENVIRONMENTS only seeds an empty table at the first start.
--
-- Groups ("Apps", "Data", "Tools") are a table of their own; a group's slug and a component's
-- slug share one namespace (the Statuspage API lists both as components): the use cases check it.
-- Top-level items (groups and ungrouped components) are ordered by position together; the
-- members of a group by position within it.

create table environment_groups (
  slug text primary key,
  name text not null check (length(name) between 1 and 100),
  description text check (length(description) <= 1000),
  position int4 not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  retired_at timestamptz
);

alter table environments add column description text check (length(description) <= 1000);

alter table environments add column group_slug text references environment_groups (slug);

alter table environments add column only_show_if_degraded boolean not null default false;

alter table environments add column showcase boolean not null default true;

-- The first day the 90-day bars and uptime count (null: as far back as there is history).
alter table environments add column start_date date;

alter table environments add column created_at timestamptz not null default now();

alter table environments add column updated_at timestamptz not null default now();

alter table environments add column retired_at timestamptz;

-- An incident's impact as its commander set it (Statuspage's impact_override); null: derived
-- from the worst status the incident declared.
alter table incidents add column impact text check (impact in ('none', 'minor', 'major', 'critical'));

-- Settings that are data, not configuration. page_id: the Statuspage API's page id, made once.
create table herald_settings (
  name text primary key,
  value text not null
);

insert into herald_settings (name, value) values ('page_id', substr(md5(random()::text || clock_timestamp()::text), 1, 12));
