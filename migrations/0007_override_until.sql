-- A manual override may say when it is expected to end (gates send it as Retry-After; it does
-- not lift the override) and ask browsers to reload the maintenance page every so many seconds
-- (gates send it as Refresh), as Laravel's `down --retry --refresh`.

alter table mode_overrides add column until timestamptz;

alter table mode_overrides add column refresh_seconds int4 check (refresh_seconds between 1 and 86400);
