package record

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Sources.
const (
	SourceChain    = "chain"
	SourceApp      = "app"
	SourceSecurity = "security"
	SourceSystem   = "system"
)

// Kinds of chain records; off-chain logs use KindLog unless the shipper says
// otherwise.
const (
	KindTx     = "tx"
	KindEvent  = "event"
	KindRevert = "revert"
	KindLog    = "log"
)

// Levels, lowest first. Ingest maps other spellings (WARNING, err, fatal,
// OTLP severity numbers, syslog severities) onto these.
var Levels = []string{"trace", "debug", "info", "warn", "error", "fatal"}

// Record is one searchable entry.
type Record struct {
	// ID is assigned by the store at write time; it orders records that
	// share a timestamp and is the keyset of pagination.
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Source  string    `json:"source"`
	Kind    string    `json:"kind"`
	Level   string    `json:"level"`
	Service string    `json:"service,omitempty"`
	Message string    `json:"message"`
	// Attrs are typed attributes: string, float64, int64, bool, nested
	// map[string]any and []any. Searched as attr.a.b:value.
	Attrs map[string]any `json:"attrs,omitempty"`

	// Links join off-chain logs to chain data: hashes and addresses found
	// in the record (at ingest, extracted from the message and attributes).
	TxHashes  []common.Hash    `json:"txHashes,omitempty"`
	Addresses []common.Address `json:"addresses,omitempty"`
	// Block is set on chain records.
	Block *uint64 `json:"block,omitempty"`
}
