-- "Last updated" on the public pages reads max(updated_at): one index entry instead of a scan.
create index incidents_updated_idx on incidents (updated_at);
