-- What each closed incident adds to the 90-day bars (its non-green stretches per environment),
-- kept so that a full build of the public data reads a few stretches per incident instead of
-- every update of the window (src/services/public-data.ts, closedTimelinesSince).
--
-- Derived data, not the record: the updates stay the only source, and any row here may be
-- dropped at any time. A row is only ever true of the incident as it is now:
-- - any write to an incident or its updates (a use case, a bulk load, a fix typed into psql)
--   deletes its row, in the writing transaction (the triggers of migration 0009, below);
-- - the builder writes a row only if the incident's mark in incident_changes is still the one it
--   read the updates at, checked under a share lock on that mark (storeStretches), so a write
--   that commits meanwhile either makes the check fail or deletes the row after it.
-- So a full build reads the kept stretches without looking at the marks (which, on a fresh
-- connection, costs more than the stretches themselves).
--
-- No foreign key: its check would lock the incident (FOR KEY SHARE), and a use case holding that
-- incident FOR UPDATE would make the cache write wait, or wait for it. Incidents are never deleted.
create table incident_stretches (
  incident_id int4 primary key,
  -- [[environment, status, from (ms since the epoch), to], ...]
  stretches json not null
);

create or replace function herald_mark_incidents_changed() returns trigger language plpgsql as $$
begin
  if tg_table_name = 'incidents' then
    insert into incident_changes (incident_id, changed_xid)
      select distinct id, pg_current_xact_id() from new_rows
      on conflict (incident_id) do update set changed_xid = excluded.changed_xid;
    delete from incident_stretches s using new_rows n where s.incident_id = n.id;
  elsif tg_op = 'INSERT' then
    insert into incident_changes (incident_id, changed_xid)
      select distinct incident_id, pg_current_xact_id() from new_rows
      on conflict (incident_id) do update set changed_xid = excluded.changed_xid;
    delete from incident_stretches s using new_rows n where s.incident_id = n.incident_id;
  else
    -- an update moved to another incident changes both
    insert into incident_changes (incident_id, changed_xid)
      select incident_id, pg_current_xact_id() from new_rows union select incident_id, pg_current_xact_id() from old_rows
      on conflict (incident_id) do update set changed_xid = excluded.changed_xid;
    delete from incident_stretches s
      where s.incident_id in (select incident_id from new_rows union select incident_id from old_rows);
  end if;
  return null;
end
$$;

-- Incidents written before migration 0009 have no mark yet; without one they could not be kept.
insert into incident_changes (incident_id, changed_xid)
  select id, pg_current_xact_id() from incidents
  on conflict (incident_id) do nothing;
