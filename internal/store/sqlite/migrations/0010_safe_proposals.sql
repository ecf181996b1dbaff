-- Safe transactions proposed for their owners to sign, with the signatures
-- collected so far (internal/response), kept across restarts until they
-- are executed.

CREATE TABLE safe_proposals (
	hash     TEXT    PRIMARY KEY, -- the SafeTx hash, 0x… lower case
	safe     TEXT    NOT NULL,    -- the Safe's address, 0x… lower case
	nonce    INTEGER NOT NULL,
	created  INTEGER NOT NULL,    -- unix nanoseconds
	proposal TEXT    NOT NULL     -- the response package's JSON
) WITHOUT ROWID;
CREATE INDEX safe_proposals_safe ON safe_proposals (safe, created);
