-- The history of response runs: emergency actions sent by hand and
-- scenarios run by hand or by a monitor, dry runs included. Append-only.

CREATE TABLE response_runs (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	scenario  TEXT    NOT NULL, -- empty for a single action
	trigger   TEXT    NOT NULL, -- "hand" or "monitor:<id>"
	dry_run   INTEGER NOT NULL,
	status    TEXT    NOT NULL,
	error     TEXT    NOT NULL,
	contracts TEXT    NOT NULL, -- " 0xa… 0xb… ": lower-case addresses between spaces
	started   INTEGER NOT NULL,
	finished  INTEGER NOT NULL,
	steps     TEXT    NOT NULL  -- the response package's JSON
);
CREATE INDEX response_runs_scenario ON response_runs (scenario, id);
