-- Searchable records: off-chain logs (application, security, system) and the
-- records derived from indexed chain data (transactions, events, reverts).
--
-- records.id is the order of search results, and is assigned by the store
-- from the record's time: id = time in unix nanoseconds, bumped to the next
-- free nanosecond when another record holds it. So id order is time order
-- (records sharing a time keep their insertion order), a time range is an
-- id range, and every index below, which SQLite suffixes with the id,
-- returns its matches newest first without a sort. time keeps the exact
-- time; id - time is below one second by construction.
--
-- Links (transaction hashes, addresses) are kept twice: as concatenated
-- 32- and 20-byte BLOBs to return them, and as lower-case 0x-hex words in
-- the txs and addrs columns of the full-text index, where tx:0x… and
-- address:0x… are one index lookup.
--
-- Chain records carry their block number, so that a rollback deletes them
-- with their blocks.

CREATE TABLE records (
	id        INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	source    TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	level     TEXT    NOT NULL,
	service   TEXT    NOT NULL,
	message   TEXT    NOT NULL,
	attrs     TEXT,
	tx_hashes BLOB,
	addresses BLOB,
	block     INTEGER
);

CREATE INDEX records_level ON records (level);
CREATE INDEX records_kind ON records (kind);
CREATE INDEX records_source ON records (source);
CREATE INDEX records_service ON records (service);
CREATE INDEX records_block ON records (block) WHERE block IS NOT NULL;

-- The full-text index keeps no copy of the text (content=''); rows are
-- deleted by rowid (contentless_delete), which the trigger does for every
-- deleted record. message is the record's message, attrs the text of its
-- string attribute values, txs and addrs its links.
CREATE VIRTUAL TABLE records_fts USING fts5(
	message, attrs, txs, addrs,
	content = '', contentless_delete = 1
);

CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN
	DELETE FROM records_fts WHERE rowid = old.id;
END;

-- settings holds per-database values, such as the key that signs search
-- cursors.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

INSERT INTO settings (name, value) VALUES ('cursor_key', randomblob(32));
