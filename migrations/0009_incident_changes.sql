-- Which transaction last changed each incident, for the public snapshot's incremental rebuild:
-- it remembers the oldest transaction still running when it last read (pg_snapshot_xmin) and asks
-- for the incidents changed by that transaction or any later one, instead of reading again
-- every incident of the 90-day window (src/services/public-data.ts).
--
-- Kept by triggers, so every write counts whatever statement makes it (a use case, a bulk load,
-- a fix typed into psql): a row inserted into or updated in incidents or incident_updates marks
-- its incident with the writing transaction's id. Statement-level, so a bulk insert of a million
-- updates marks each incident once. xid8 never wraps around. Incidents are never deleted.

create table incident_changes (
  incident_id int4 primary key references incidents (id),
  changed_xid xid8 not null
);

create index incident_changes_xid_idx on incident_changes (changed_xid);

create function herald_mark_incidents_changed() returns trigger language plpgsql as $$
begin
  if tg_table_name = 'incidents' then
    insert into incident_changes (incident_id, changed_xid)
      select distinct id, pg_current_xact_id() from new_rows
      on conflict (incident_id) do update set changed_xid = excluded.changed_xid;
  elsif tg_op = 'INSERT' then
    insert into incident_changes (incident_id, changed_xid)
      select distinct incident_id, pg_current_xact_id() from new_rows
      on conflict (incident_id) do update set changed_xid = excluded.changed_xid;
  else
    -- an update moved to another incident changes both
    insert into incident_changes (incident_id, changed_xid)
      select incident_id, pg_current_xact_id() from new_rows union select incident_id, pg_current_xact_id() from old_rows
      on conflict (incident_id) do update set changed_xid = excluded.changed_xid;
  end if;
  return null;
end
$$;

create trigger incidents_inserted after insert on incidents
  referencing new table as new_rows for each statement execute function herald_mark_incidents_changed();

create trigger incidents_updated after update on incidents
  referencing new table as new_rows for each statement execute function herald_mark_incidents_changed();

create trigger incident_updates_inserted after insert on incident_updates
  referencing new table as new_rows for each statement execute function herald_mark_incidents_changed();

create trigger incident_updates_updated after update on incident_updates
  referencing old table as old_rows new table as new_rows for each statement execute function herald_mark_incidents_changed();
