-- Dashboards, saved searches and share links.
--
-- A dashboard's spec (panels, layout, default range) is JSON that the
-- dashboard package validates; the store keeps it as it is.
--
-- A share link's token is never stored, only its SHA-256 hash, so a copy
-- of the database does not hand out working links. A snapshot share keeps
-- the results it froze, so it outlives the retention of its records.

CREATE TABLE dashboards (
	id      TEXT    PRIMARY KEY,
	name    TEXT    NOT NULL,
	spec    TEXT    NOT NULL,
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE saved_searches (
	id         TEXT    PRIMARY KEY,
	name       TEXT    NOT NULL,
	query      TEXT    NOT NULL,
	range_from TEXT    NOT NULL,
	range_to   TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	updated    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE shares (
	id         TEXT    PRIMARY KEY,
	token_hash BLOB    NOT NULL UNIQUE,
	kind       TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	title      TEXT    NOT NULL,
	range_from TEXT    NOT NULL,
	range_to   TEXT    NOT NULL,
	expires    INTEGER NOT NULL, -- unix nanoseconds; 0 never
	created    INTEGER NOT NULL,
	revoked    INTEGER NOT NULL, -- unix nanoseconds; 0 while it works
	snapshot   BLOB
) WITHOUT ROWID;

CREATE TABLE share_events (
	id       INTEGER PRIMARY KEY,
	time     INTEGER NOT NULL,
	share_id TEXT    NOT NULL,
	action   TEXT    NOT NULL,
	detail   TEXT    NOT NULL
);
