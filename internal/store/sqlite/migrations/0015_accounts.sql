-- Users, API keys and the accounts audit log. Secrets are never stored:
-- passwords as argon2id hashes, API keys and setup tokens as SHA-256.
-- A session belongs to a user (user_id) or, NULL, to an operator-key login.
ALTER TABLE operator_sessions ADD COLUMN user_id INTEGER;
CREATE INDEX operator_sessions_user ON operator_sessions (user_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'responder', 'admin')),
    password_hash TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    setup_hash    BLOB    UNIQUE,
    setup_expires INTEGER,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL,
    hash      BLOB    NOT NULL UNIQUE,
    prefix    TEXT    NOT NULL,
    scopes    TEXT    NOT NULL,
    user_id   INTEGER,
    created   INTEGER NOT NULL,
    last_used INTEGER,
    revoked   INTEGER
);

CREATE TABLE audit_events (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT    NOT NULL,
    client TEXT    NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
