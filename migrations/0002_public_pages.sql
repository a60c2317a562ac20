-- Indexes for the public pages: the 90-day bars read incidents closed since a date.
create index incidents_resolved_idx on incidents (resolved_at) where resolved_at is not null;
