// Package indexer follows a chain's head and copies its blocks, transactions,
// receipts and logs into the store, decoded: it backfills in batches from a
// start block, detects reorgs by parent hash and rolls back every row derived
// from orphaned blocks, and resumes from the stored head after a crash with
// no gap and no duplicate (each batch is written in one store transaction,
// so the stored head is the checkpoint).
//
// FollowHeads keeps a head subscription to the node open (renewed when it
// drops) and turns pushed heads into wake-ups of the indexer, which polls
// when the node cannot push.
package indexer
