-- Price feeds the oracle capability follows, with the thresholds set on
-- them, and the newest read of each feed by each contract seen reading it
-- in a call trace.

CREATE TABLE oracle_feeds (
	address            BLOB    PRIMARY KEY,
	source             TEXT    NOT NULL CHECK (source IN ('manual', 'abi', 'trace')),
	heartbeat          INTEGER NOT NULL, -- nanoseconds; 0 is the default
	deviation_pct      REAL    NOT NULL, -- 0 is the default
	reference          BLOB,             -- a feed of the same pair, or NULL
	aggregator         BLOB    NOT NULL, -- zero address when no proxy
	prev_aggregator    BLOB    NOT NULL,
	aggregator_changed INTEGER NOT NULL, -- unix microseconds; 0 never
	added              INTEGER NOT NULL, -- unix microseconds
	updated            INTEGER NOT NULL  -- unix microseconds
);

CREATE TABLE oracle_reads (
	feed             BLOB    NOT NULL,
	reader           BLOB    NOT NULL,
	block            INTEGER NOT NULL,
	tx               BLOB    NOT NULL,
	time             INTEGER NOT NULL, -- unix seconds
	method           TEXT    NOT NULL,
	round_id         TEXT    NOT NULL,
	answer           TEXT    NOT NULL,
	updated_at       INTEGER NOT NULL, -- unix seconds; 0 unknown
	stale            INTEGER NOT NULL,
	reads            INTEGER NOT NULL,
	stale_reads      INTEGER NOT NULL,
	last_stale_tx    BLOB    NOT NULL,
	last_stale_block INTEGER NOT NULL,
	PRIMARY KEY (feed, reader)
) WITHOUT ROWID;
