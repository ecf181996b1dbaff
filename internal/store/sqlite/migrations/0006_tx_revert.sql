-- Transaction records carry the revertReason and revertKind of their
-- decoded revert (see chainrec.go), so that stats, top, timechart and
-- facets over kind:tx see them. Records stored before are given them from
-- their revert record: same block, same transaction hash.

UPDATE records
SET attrs = json_set(records.attrs,
	'$.revertKind', json_extract(v.attrs, '$.revertKind'),
	'$.revertReason', json_extract(v.attrs, '$.revertReason'))
FROM (SELECT block, tx_hashes, attrs FROM records WHERE kind = 'revert') AS v
WHERE records.kind = 'tx'
	AND records.block = v.block
	AND records.tx_hashes = v.tx_hashes
	AND json_type(records.attrs, '$.revertReason') IS NULL;
