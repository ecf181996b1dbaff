-- The outbox's claims: a delivery is claimed by its sender until claimed_until (unix nanoseconds)
-- before it is sent, as on PostgreSQL where several nodes share the outbox.

ALTER TABLE outbox ADD COLUMN claimed_by    TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
