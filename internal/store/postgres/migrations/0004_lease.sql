-- Several nodes on one database: the nodes that serve from it (each beats its row every second or
-- so, saying whether it leads), and the outbox's claims — a delivery is claimed by one node until
-- claimed_until (unix nanoseconds) before it is sent, so that two nodes never send it at once and a
-- dead node's claims come back when they expire.

CREATE TABLE nodes (
	id        text   PRIMARY KEY,
	addr      text   NOT NULL,
	role      text   NOT NULL,
	started   bigint NOT NULL, -- unix nanoseconds
	heartbeat bigint NOT NULL  -- unix nanoseconds
);

ALTER TABLE outbox ADD COLUMN claimed_by    text   NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until bigint NOT NULL DEFAULT 0;
