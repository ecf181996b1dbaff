-- Operator login sessions, shared by every node: the SHA-256 of the
-- cookie's random id, never the id itself.
CREATE TABLE operator_sessions (
    hash    bytea  PRIMARY KEY,
    created bigint NOT NULL,
    expires bigint NOT NULL
);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires);
