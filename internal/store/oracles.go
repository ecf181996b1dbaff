package store

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Where a followed price feed was found.
const (
	FeedSourceManual = "manual" // added by hand (CLI, API, UI)
	FeedSourceABI    = "abi"    // a registered ABI has the feed's read functions
	FeedSourceTrace  = "trace"  // a watched contract was seen reading it in a call trace
)

// What a followed feed reports.
const (
	FeedKindPrice     = "price"     // a price: answer with decimals
	FeedKindSequencer = "sequencer" // an L2 sequencer's uptime: 0 up, 1 down, since startedAt
)

// OracleFeed is a price feed the oracle capability follows, with the
// thresholds an operator set on it. Zero thresholds mean "the default",
// which the oracle package decides and shows as such.
type OracleFeed struct {
	Address common.Address `json:"address"`
	// Source is FeedSourceManual, FeedSourceABI or FeedSourceTrace.
	Source string `json:"source"`
	// Kind is FeedKindPrice (also when empty) or FeedKindSequencer.
	Kind string `json:"kind"`
	// Heartbeat is the longest the feed may go without an update; zero
	// means the default.
	Heartbeat time.Duration `json:"heartbeat"`
	// DeviationPct is the deviation threshold in percent (0.5 for 0.5%);
	// zero means the default.
	DeviationPct float64 `json:"deviationPct"`
	// Reference is a feed of the same pair the answers are compared with,
	// when set.
	Reference *common.Address `json:"reference,omitempty"`
	// Aggregator is the aggregator the feed's proxy pointed to when last
	// read (zero when the feed is no proxy); PrevAggregator the one before
	// it and AggregatorChanged when the change was noticed.
	Aggregator        common.Address `json:"aggregator"`
	PrevAggregator    common.Address `json:"prevAggregator"`
	AggregatorChanged time.Time      `json:"aggregatorChanged"`
	// Added and Updated are kept to the microsecond.
	Added   time.Time `json:"added"`
	Updated time.Time `json:"updated"`
}

// OracleRead is what one contract got the last time it read a feed,
// found in a call trace, with how many reads of that pair were seen.
type OracleRead struct {
	Feed   common.Address `json:"feed"`
	Reader common.Address `json:"reader"`
	Block  uint64         `json:"block"`
	Tx     common.Hash    `json:"tx"`
	// Time is the block's time, to the second.
	Time time.Time `json:"time"`
	// Method is the feed method called (latestRoundData, latestAnswer, …).
	Method string `json:"method"`
	// RoundID and Answer are decimal integers as the feed returned them
	// (empty when the method does not return them); UpdatedAt is the
	// round's update time (zero when the method does not return it).
	RoundID   string    `json:"roundId"`
	Answer    string    `json:"answer"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Stale says this read got an answer older than the feed's heartbeat.
	Stale bool `json:"stale"`
	// Reads and StaleReads count every read of the pair recorded so far;
	// they are maintained by the store, ignored on write.
	Reads      int64 `json:"reads"`
	StaleReads int64 `json:"staleReads"`
	// LastStaleTx and LastStaleBlock locate the newest stale read; kept by
	// the store.
	LastStaleTx    common.Hash `json:"lastStaleTx"`
	LastStaleBlock uint64      `json:"lastStaleBlock"`
}

// OracleStore keeps the followed price feeds, their thresholds and who
// reads them. Safe for concurrent use.
type OracleStore interface {
	// PutOracleFeed inserts the feed, or replaces the stored one keeping
	// its Added time. An empty Source, a negative heartbeat or deviation,
	// or a zero address is ErrInvalid.
	PutOracleFeed(ctx context.Context, f OracleFeed) error
	// OracleFeed returns the feed at addr, or ErrNotFound.
	OracleFeed(ctx context.Context, addr common.Address) (OracleFeed, error)
	// OracleFeeds returns every followed feed, ordered by address; empty,
	// not nil, when there is none.
	OracleFeeds(ctx context.Context) ([]OracleFeed, error)
	// RecordOracleRead keeps r as the newest read of (r.Feed, r.Reader)
	// unless a newer block's read is stored, and counts it (a stale one
	// also as stale) either way.
	RecordOracleRead(ctx context.Context, r OracleRead) error
	// OracleReads returns the newest read of feed by every reader, the
	// most recent first; empty, not nil, when there is none.
	OracleReads(ctx context.Context, feed common.Address) ([]OracleRead, error)
}
