-- Chain data: blocks, their transactions (joined with receipts and decoded
-- calls and reverts) and their logs (with decoded events), plus the registry
-- of contracts whose ABI is known.
--
-- Conventions: addresses and hashes are BLOBs of 20 and 32 bytes; times are
-- unix seconds; integers that can exceed int64 (wei amounts, base fee) are
-- decimal TEXT; uint64 fields are stored as their two's-complement int64.
-- Every row derived from a block carries block_number so that a rollback is
-- one range delete per table.
--
-- Transactions and logs are keyed by their position in the chain:
-- txs.id = block_number << 20 | idx and logs.id = block_number << 24 |
-- log_index. The table b-tree is then in chain order, appends go to its end,
-- a block's rows and "everything above block n" are id ranges, and every
-- secondary index, which SQLite suffixes with the id, returns its matches
-- in chain order without a sort.

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
	id                  INTEGER PRIMARY KEY,
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
CREATE INDEX txs_from ON txs (from_addr);
CREATE INDEX txs_to ON txs (to_addr) WHERE to_addr IS NOT NULL;
CREATE INDEX txs_contract ON txs (contract_address) WHERE contract_address IS NOT NULL;
CREATE INDEX txs_status ON txs (status);
CREATE INDEX txs_time ON txs (time);

CREATE TABLE logs (
	id           INTEGER PRIMARY KEY,
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

CREATE INDEX logs_address ON logs (address);
CREATE INDEX logs_topic0 ON logs (topic0) WHERE topic0 IS NOT NULL;
CREATE INDEX logs_event_name ON logs (event_name) WHERE event_name IS NOT NULL;
CREATE INDEX logs_tx_hash ON logs (tx_hash);
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
