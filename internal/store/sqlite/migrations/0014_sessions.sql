-- Operator login sessions: the SHA-256 of the cookie's random id, never
-- the id itself.
CREATE TABLE operator_sessions (
    hash    BLOB    PRIMARY KEY,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires);
