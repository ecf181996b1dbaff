package decode

import (
	"fmt"

	"github.com/blocktorch/blocktorch/internal/chain"
)

// DecodeLog sets l.Event from the ABI registered at the log's address, or
// else the bundled table, and to nil when neither knows the event. Among
// events sharing topic0 (an ERC-20 and an ERC-721 Transfer) the one whose
// number of indexed arguments matches the log's topics is chosen.
func (r *Registry) DecodeLog(l *chain.Log) {
	ev, err := r.decodeEvent(l)
	if err != nil {
		ev = nil
	}
	l.Event = ev
}

func (r *Registry) decodeEvent(l *chain.Log) (ev *chain.Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			ev, err = nil, panicError("event log", p)
		}
	}()
	if len(l.Topics) == 0 {
		return nil, fmt.Errorf("log without topics (anonymous event): %w", ErrUnknown)
	}
	if len(l.Data) > MaxDataSize {
		return nil, fmt.Errorf("log data of %d bytes: %w", len(l.Data), ErrTooLarge)
	}
	own := r.contract(&l.Address)
	var contract string
	var candidates [][]*fragment
	if own != nil {
		contract = own.name
		candidates = append(candidates, own.events[l.Topics[0]])
	}
	candidates = append(candidates, r.bundled.events[l.Topics[0]])
	var lastErr error
	for _, fs := range candidates {
		for _, f := range fs {
			if f.indexed != len(l.Topics)-1 {
				continue
			}
			var d valueDecoder
			args, err := d.args(f.params, l.Data, l.Topics[1:])
			if err != nil {
				lastErr = fmt.Errorf("cannot decode event %s: %w", f.sig, err)
				continue
			}
			return &chain.Event{Contract: contract, Name: f.name, Signature: f.sig, Args: args}, nil
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, fmt.Errorf("topic %s with %d indexed arguments: %w", l.Topics[0].Hex(), len(l.Topics)-1, ErrUnknown)
}
