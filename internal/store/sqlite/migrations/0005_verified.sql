-- Verified contracts: what verifying a contract produced (status, compiler
-- settings, the matched artifact, the match detail, the sources), so that
-- contract pages and the debugger keep their sources across restarts.
--
-- result is the contracts package's JSON without the source texts; those
-- are kept once per distinct text in verified_sources (the contracts of one
-- build share them) and linked by their SHA-256.

CREATE TABLE verified_contracts (
	address       BLOB    PRIMARY KEY,
	status        TEXT    NOT NULL CHECK (status IN ('full', 'partial')),
	contract_name TEXT    NOT NULL,
	source_name   TEXT    NOT NULL,
	compiler      TEXT    NOT NULL,
	result        TEXT    NOT NULL,
	verified      INTEGER NOT NULL -- unix microseconds
);

CREATE TABLE verified_sources (
	hash    BLOB PRIMARY KEY, -- SHA-256 of content
	content TEXT NOT NULL
);

CREATE TABLE verified_contract_sources (
	address BLOB NOT NULL REFERENCES verified_contracts (address) ON DELETE CASCADE,
	unit    TEXT NOT NULL,
	hash    BLOB NOT NULL REFERENCES verified_sources (hash),
	PRIMARY KEY (address, unit)
) WITHOUT ROWID;

CREATE INDEX verified_contract_sources_hash ON verified_contract_sources (hash);
