// Package oracle follows price feeds: Chainlink AggregatorV3Interface
// feeds, behind an aggregator proxy or not, and the contracts that read
// them.
//
// A feed is followed when it is added by hand (Service.Add), when a
// registered ABI has a feed's read functions (Service.DetectABIs), or when
// a call trace of an indexed transaction shows a contract calling
// latestRoundData, latestAnswer or getRoundData on it (Service.Observe).
// ReadFeed reads what the feed says of itself at a block: description,
// decimals, version, the latest round, the aggregator behind a proxy
// (followed through aggregator(), a proxy that points to itself refused)
// and the aggregator's minAnswer/maxAnswer where it has them. History
// lists the feed's answers from its aggregators' AnswerUpdated and OCR
// NewTransmission records in the records store (Service.Records; the
// node's logs without one), or, for aggregators that emit none (Chainlink's
// MockV3Aggregator), by walking getRoundData back from the latest round;
// Cadence sums up how often it updated.
//
// Heartbeat and deviation thresholds are per feed (the store keeps them;
// zero means the default, shown as such), and Health judges the latest
// round against them: stale when older than the heartbeat, non-positive,
// pinned at the aggregator's bounds. A feed followed as an L2
// sequencer-uptime feed (Thresholds.Sequencer, or found by a description
// naming a sequencer's uptime) is judged by JudgeSequencer instead: down
// while it answers 1, "grace" for an hour after it came back up (its
// startedAt), never stale for lack of updates. Each check (stale, jump,
// deviation, nonpositive, bounds, sequencer, stale-read) also gives its
// verdict on its own, with the records behind it: a query over a fixed
// time range and its Explore permalink (checks.go). Reads recorded from traces remember,
// per feed and reader, the newest read with the answer the reader got and
// whether it was already older than the heartbeat (a stale read). The
// monitor engine's feed-* and sequencer-down kinds judge feed health through the Service, which
// implements monitor.FeedReader (RoundAt and ReadsAt underneath); TraceVia
// traces blocks with the monitor engine's node, as the engine does.
//
// Everything a feed answers is attacker-controlled: decoding checks
// lengths and ranges and answers errors (ErrNotFeed, ErrReverted,
// ErrBadDecimals, ErrProxyLoop), never panics.
package oracle
