-- Chain data: blocks, their transactions (joined with receipts and decoded
-- calls and reverts) and their logs (with decoded events), the registry of
-- contracts whose ABI is known, and per-database settings.
--
-- The same conventions as the SQLite store, so that both return the same
-- values: addresses and hashes are bytea of 20 and 32 bytes; chain times are
-- unix seconds; integers that can exceed int64 (wei amounts, base fee) are
-- decimal text; uint64 fields are stored as their two's-complement bigint.
-- Every row derived from a block carries block_number so that a rollback is
-- one range delete per table.
--
-- Transactions and logs are keyed by their position in the chain:
-- txs.id = block_number << 20 | idx and logs.id = block_number << 24 |
-- log_index, so a block's rows and "everything above block n" are id
-- ranges of the primary key, and newest-first listings walk it backwards.

CREATE TABLE blocks (
	number      bigint PRIMARY KEY,
	hash        bytea  NOT NULL UNIQUE,
	parent_hash bytea  NOT NULL,
	time        bigint NOT NULL,
	miner       bytea  NOT NULL,
	gas_used    bigint NOT NULL,
	gas_limit   bigint NOT NULL,
	base_fee    text,
	tx_count    integer NOT NULL,
	log_count   integer NOT NULL
);

CREATE INDEX blocks_time ON blocks (time, number);

CREATE TABLE txs (
	id                  bigint  PRIMARY KEY,
	hash                bytea   NOT NULL,
	block_number        bigint  NOT NULL,
	block_hash          bytea   NOT NULL,
	idx                 integer NOT NULL,
	time                bigint  NOT NULL,
	type                integer NOT NULL,
	from_addr           bytea   NOT NULL,
	to_addr             bytea,
	value               text,
	nonce               bigint  NOT NULL,
	gas                 bigint  NOT NULL,
	input               bytea   NOT NULL,
	selector            bytea,
	status              bigint  NOT NULL,
	gas_used            bigint  NOT NULL,
	effective_gas_price text,
	fee                 text    NOT NULL,
	contract_address    bytea,
	revert_data         bytea,
	method              text,
	call                text,
	revert_kind         text,
	revert_name         text,
	revert_message      text,
	revert              text
);

-- The address indexes carry id so that a newest-first walk of one
-- address's transactions reads the index backwards without a sort.
CREATE UNIQUE INDEX txs_hash ON txs (hash);
CREATE INDEX txs_from ON txs (from_addr, id);
CREATE INDEX txs_to ON txs (to_addr, id) WHERE to_addr IS NOT NULL;
CREATE INDEX txs_contract ON txs (contract_address, id) WHERE contract_address IS NOT NULL;
CREATE INDEX txs_failed ON txs (id) WHERE status = 0;

CREATE TABLE logs (
	id           bigint  PRIMARY KEY,
	block_number bigint  NOT NULL,
	log_index    integer NOT NULL,
	tx_hash      bytea   NOT NULL,
	tx_index     integer NOT NULL,
	address      bytea   NOT NULL,
	topic0       bytea,
	topic1       bytea,
	topic2       bytea,
	topic3       bytea,
	data         bytea   NOT NULL,
	event_name   text,
	event        text,
	time         bigint  NOT NULL
);

CREATE INDEX logs_address ON logs (address, id);
CREATE INDEX logs_topic0 ON logs (topic0, id) WHERE topic0 IS NOT NULL;
CREATE INDEX logs_event_name ON logs (event_name, id) WHERE event_name IS NOT NULL;
CREATE INDEX logs_tx_hash ON logs (tx_hash, id);

-- chain_counts holds the running totals that Counts reports, kept in step
-- by every write and rollback so that Counts costs one row read instead of
-- a count over the logs table. Writers also lock its row, which serialises
-- WriteBlocks and RollbackTo across every node sharing the database.
CREATE TABLE chain_counts (
	id     integer PRIMARY KEY CHECK (id = 1),
	blocks bigint  NOT NULL,
	txs    bigint  NOT NULL,
	logs   bigint  NOT NULL
);

INSERT INTO chain_counts (id, blocks, txs, logs) VALUES (1, 0, 0, 0);

CREATE TABLE contracts (
	address bytea  PRIMARY KEY,
	name    text   NOT NULL,
	abi     text   NOT NULL,
	origin  text   NOT NULL,
	added   bigint NOT NULL -- unix microseconds
);

-- settings holds per-database values, such as the key that signs search
-- cursors: every node sharing the database signs them alike. Open inserts
-- the random key when it is missing (crypto/rand, not the server's
-- random()).
CREATE TABLE settings (
	name  text  PRIMARY KEY,
	value bytea NOT NULL
);
