package store

import (
	"context"
	"encoding/json"
	"time"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one notification to one channel, in the outbox.
type Delivery struct {
	ID int64 `json:"id"`
	// Key is unique: enqueuing a key already present is a no-op, so one
	// alert transition is delivered once per channel.
	Key         string          `json:"key"`
	Channel     string          `json:"channel"`
	Payload     json.RawMessage `json:"payload"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	Created     time.Time       `json:"created"`
	NextAttempt time.Time       `json:"nextAttempt"`
	LastError   string          `json:"lastError,omitempty"`
	Done        time.Time       `json:"done,omitempty"`
	// ClaimedBy is the sender that claimed the delivery (Claim) and holds
	// it until ClaimedUntil; "" when no sender claimed it.
	ClaimedBy    string    `json:"claimedBy,omitempty"`
	ClaimedUntil time.Time `json:"claimedUntil,omitempty"`
}

// Outbox is the persisted queue of notifications. Safe for concurrent
// use, by several processes sharing the store too: a sender claims the
// deliveries it is about to send (Claim), so that no delivery is handed
// to two senders at once. Listing nothing is not an error.
type Outbox interface {
	// Enqueue adds deliveries in one transaction and returns how many were
	// new (keys already present are skipped).
	Enqueue(ctx context.Context, ds []Delivery) (added int, err error)
	// Due returns pending deliveries whose NextAttempt is at or before now,
	// oldest first, at most limit.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Claim takes the pending deliveries due at now that no sender holds
	// (never claimed, released, or whose claim ended at or before now),
	// oldest first, at most limit, for owner until now+hold: until then no
	// other Claim returns them, whichever process calls it. The deliveries
	// come back with ClaimedBy and ClaimedUntil set.
	Claim(ctx context.Context, now time.Time, limit int, owner string, hold time.Duration) ([]Delivery, error)
	// NextDue returns when a pending delivery is next due and not held by
	// a claim (the latest of its NextAttempt and its claim's end), the
	// earliest such time, or ErrNotFound when none is pending.
	NextDue(ctx context.Context) (time.Time, error)
	// Settle records an attempt's outcome: d.State, d.Attempts,
	// d.NextAttempt, d.LastError and d.Done are written, and the claim is
	// released. An unknown d.ID returns ErrNotFound. When d.ClaimedBy is
	// set, the outcome is written only if that sender still holds the
	// claim (nobody claimed the delivery since, even after the claim
	// ended); otherwise nothing is written and the error wraps
	// ErrConflict. A d without ClaimedBy is written whoever holds it.
	Settle(ctx context.Context, d Delivery) error
	// Deliveries lists deliveries in a state, newest first, at most limit.
	Deliveries(ctx context.Context, state string, limit int) ([]Delivery, error)
	// Requeue makes a dead delivery pending again, due at now. An unknown
	// ID, or a delivery that is not dead, returns ErrNotFound.
	Requeue(ctx context.Context, id int64, now time.Time) error
}
