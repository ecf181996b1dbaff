-- Chain data: blocks, their transactions (joined with receipts and decoded
-- calls and reverts) and their logs (with decoded events), plus the registry
-- of contracts whose ABI is known.
--
-- Conventions: addresses and hashes are BLOBs of 20 and 32 bytes; times are
-- unix seconds; integers that can exceed int64 (wei amounts, base fee) are
-- decimal TEXT; uint64 fields are stored as their two's-complement int64.
-- Every row derived from a block carries block_number so that a rollback is
-- one "WHERE block_number > ?" per table.

CREATE TABLE blocks (
	number      INTEGER PRIMARY KEY,
	hash        BLOB    NOT NULL UNIQUE,
	parent_hash BLOB    NOT NULL,
	time        INTEGER NOT NULL,
	miner       BLOB    NOT NULL,
	gas_used    INTEGER NOT NULL,
	gas_limit   INTEGER NOT NULL,
	base_fee    TEXT,
	tx_count    INTEGER NOT NULL,
	log_count   INTEGER NOT NULL
);

CREATE INDEX blocks_time ON blocks (time);

CREATE TABLE txs (
	hash                BLOB    NOT NULL,
	block_number        INTEGER NOT NULL,
	block_hash          BLOB    NOT NULL,
	idx                 INTEGER NOT NULL,
	time                INTEGER NOT NULL,
	type                INTEGER NOT NULL,
	from_addr           BLOB    NOT NULL,
	to_addr             BLOB,
	value               TEXT,
	nonce               INTEGER NOT NULL,
	gas                 INTEGER NOT NULL,
	input               BLOB    NOT NULL,
	selector            BLOB,
	status              INTEGER NOT NULL,
	gas_used            INTEGER NOT NULL,
	effective_gas_price TEXT,
	fee                 TEXT    NOT NULL,
	contract_address    BLOB,
	revert_data         BLOB,
	method              TEXT,
	call                TEXT,
	revert_kind         TEXT,
	revert_name         TEXT,
	revert_message      TEXT,
	revert              TEXT
);

CREATE UNIQUE INDEX txs_hash ON txs (hash);
CREATE UNIQUE INDEX txs_block_idx ON txs (block_number, idx);
-- The filter indexes end in (block_number, idx) so that "newest first,
-- limit n" walks an index backwards instead of sorting every match.
CREATE INDEX txs_from ON txs (from_addr, block_number, idx);
CREATE INDEX txs_to ON txs (to_addr, block_number, idx) WHERE to_addr IS NOT NULL;
CREATE INDEX txs_contract ON txs (contract_address, block_number, idx) WHERE contract_address IS NOT NULL;
CREATE INDEX txs_status_block ON txs (status, block_number, idx);
CREATE INDEX txs_time ON txs (time);

CREATE TABLE logs (
	block_number INTEGER NOT NULL,
	log_index    INTEGER NOT NULL,
	tx_hash      BLOB    NOT NULL,
	tx_index     INTEGER NOT NULL,
	address      BLOB    NOT NULL,
	topic0       BLOB,
	topic1       BLOB,
	topic2       BLOB,
	topic3       BLOB,
	data         BLOB    NOT NULL,
	event_name   TEXT,
	event        TEXT,
	time         INTEGER NOT NULL
);

CREATE UNIQUE INDEX logs_block_index ON logs (block_number, log_index);
CREATE INDEX logs_address_block ON logs (address, block_number, log_index);
CREATE INDEX logs_topic0 ON logs (topic0, block_number, log_index) WHERE topic0 IS NOT NULL;
CREATE INDEX logs_event_name ON logs (event_name, block_number, log_index) WHERE event_name IS NOT NULL;
CREATE INDEX logs_tx_hash ON logs (tx_hash, log_index);
CREATE INDEX logs_time ON logs (time);

-- chain_counts holds the running totals that Counts reports, kept in step by
-- every write and rollback so that Counts costs one row read instead of a
-- scan of the logs table.
CREATE TABLE chain_counts (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	blocks INTEGER NOT NULL,
	txs    INTEGER NOT NULL,
	logs   INTEGER NOT NULL
);

INSERT INTO chain_counts (id, blocks, txs, logs) VALUES (1, 0, 0, 0);

CREATE TABLE contracts (
	address BLOB    PRIMARY KEY,
	name    TEXT    NOT NULL,
	abi     TEXT    NOT NULL,
	origin  TEXT    NOT NULL,
	added   INTEGER NOT NULL
);
