-- Monitors, notification channels, alert state and history, silences,
-- state-watch series and the notification outbox.

CREATE TABLE monitors (
	id      TEXT    PRIMARY KEY,
	spec    TEXT    NOT NULL,
	origin  TEXT    NOT NULL,
	updated INTEGER NOT NULL
);

CREATE TABLE monitor_channels (
	name    TEXT    PRIMARY KEY,
	spec    TEXT    NOT NULL,
	origin  TEXT    NOT NULL,
	updated INTEGER NOT NULL
);

-- The current state of each alert instance, so a restart resumes it.
CREATE TABLE alert_states (
	monitor_id TEXT NOT NULL,
	key        TEXT NOT NULL,
	state      TEXT NOT NULL,
	PRIMARY KEY (monitor_id, key)
);

-- Every transition, newest last.
CREATE TABLE alert_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	monitor_id TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	time       INTEGER NOT NULL,
	block      INTEGER,
	detail     TEXT    NOT NULL
);
CREATE INDEX alert_events_monitor ON alert_events (monitor_id, id);

CREATE TABLE silences (
	id         TEXT    PRIMARY KEY,
	matchers   TEXT    NOT NULL,
	comment    TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	starts     INTEGER NOT NULL,
	ends       INTEGER NOT NULL
);

CREATE TABLE monitor_series (
	monitor_id TEXT    NOT NULL,
	block      INTEGER NOT NULL,
	time       INTEGER NOT NULL,
	value      TEXT    NOT NULL,
	PRIMARY KEY (monitor_id, block)
) WITHOUT ROWID;
CREATE INDEX monitor_series_block ON monitor_series (block);

-- The outbox: one row per notification and channel. key is the idempotency
-- key: one alert transition is enqueued once.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	key          TEXT    NOT NULL UNIQUE,
	channel      TEXT    NOT NULL,
	payload      TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	attempts     INTEGER NOT NULL,
	created      INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL,
	last_error   TEXT    NOT NULL,
	done         INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id);
