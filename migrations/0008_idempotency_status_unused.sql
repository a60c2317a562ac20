-- A stored answer is the use case's value; the HTTP status comes from the route that answers
-- it, so the status is no longer written. Nullable rather than dropped, so an instance of the
-- previous version still running during a deploy keeps saving its answers.

alter table idempotency_keys alter column status drop not null;
