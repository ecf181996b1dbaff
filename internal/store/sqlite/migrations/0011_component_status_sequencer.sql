-- A status page component's state set by hand ('' : from the open public
-- incidents that name it alone), and the kind of a followed feed: a price
-- feed, or an L2 sequencer-uptime feed (answer 0 up, 1 down; startedAt
-- when that began).

ALTER TABLE status_components ADD COLUMN status TEXT NOT NULL DEFAULT ''
	CHECK (status IN ('', 'operational', 'degraded', 'partial_outage', 'major_outage'));

ALTER TABLE oracle_feeds ADD COLUMN kind TEXT NOT NULL DEFAULT 'price'
	CHECK (kind IN ('price', 'sequencer'));
