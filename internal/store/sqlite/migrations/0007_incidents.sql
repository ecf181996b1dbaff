-- Incidents with their timelines, the kill switches of dApp front ends,
-- the public status page's components, editable templates (the
-- postmortem) and the audit log of their changes.

CREATE TABLE incidents (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	title        TEXT    NOT NULL,
	severity     TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	owner        TEXT    NOT NULL,
	summary      TEXT    NOT NULL,
	contracts    TEXT    NOT NULL, -- JSON array of addresses
	services     TEXT    NOT NULL, -- JSON array of service names
	channels     TEXT    NOT NULL, -- JSON array of channel names
	public       INTEGER NOT NULL,
	public_title TEXT    NOT NULL,
	banner       TEXT    NOT NULL,
	source       TEXT    NOT NULL,
	source_ref   TEXT    NOT NULL,
	started      INTEGER NOT NULL,
	resolved     INTEGER NOT NULL, -- 0 while open
	created      INTEGER NOT NULL,
	updated      INTEGER NOT NULL,
	postmortem   TEXT    NOT NULL
);
CREATE INDEX incidents_open ON incidents (resolved, id);

CREATE TABLE incident_entries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	time        INTEGER NOT NULL,
	kind        TEXT    NOT NULL,
	text        TEXT    NOT NULL,
	link        TEXT    NOT NULL,
	author      TEXT    NOT NULL,
	public      INTEGER NOT NULL,
	notify      INTEGER NOT NULL,
	ref         TEXT    -- NULL when the entry needs no dedupe
);
CREATE INDEX incident_entries_incident ON incident_entries (incident_id, time, id);
CREATE UNIQUE INDEX incident_entries_ref ON incident_entries (incident_id, ref) WHERE ref IS NOT NULL;

CREATE TABLE flags (
	deployment  TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	enabled     INTEGER NOT NULL,
	percent     INTEGER NOT NULL,
	description TEXT    NOT NULL,
	updated     INTEGER NOT NULL,
	updated_by  TEXT    NOT NULL,
	PRIMARY KEY (deployment, name)
) WITHOUT ROWID;

CREATE TABLE status_components (
	id       TEXT    PRIMARY KEY,
	name     TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	ref      TEXT    NOT NULL,
	position INTEGER NOT NULL
);

CREATE TABLE incident_templates (
	name    TEXT    PRIMARY KEY,
	body    TEXT    NOT NULL,
	updated INTEGER NOT NULL
);

CREATE TABLE incident_audit (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT    NOT NULL,
	action TEXT    NOT NULL,
	target TEXT    NOT NULL,
	detail TEXT    NOT NULL
);
