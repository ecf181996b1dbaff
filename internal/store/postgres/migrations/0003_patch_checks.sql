-- Patch checks (internal/patch), so that a check's permalink shows its report after a restart:
-- each check's run (request, report or error) as the patch package's JSON. The newest finished
-- ones are kept; the patch service prunes the rest.

CREATE TABLE patch_checks (
	id      text    PRIMARY KEY,
	target  text    NOT NULL, -- lower-case 0x… address
	started bigint  NOT NULL,
	done    integer NOT NULL,
	run     text    NOT NULL  -- the patch package's JSON
);
CREATE INDEX patch_checks_started ON patch_checks (done, started);
