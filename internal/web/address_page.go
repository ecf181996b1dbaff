package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// addressEventsLimit is how many events the address page lists.
const addressEventsLimit = 25

// Kinds of address the address page tells apart.
const (
	addrContract = "contract" // code on chain, or a contract the registry knows
	addrWallet   = "wallet"   // no code: an externally owned account
	addrUnknown  = ""         // the node was not asked and the index does not tell
)

// addressEvent is one event that involves an address: emitted by it, or
// naming it in an argument (Transfer's from or to, Approval's spender…).
type addressEvent struct {
	Name         string
	Message      string
	Emitter      string
	EmitterName  string
	Tx           string
	Block        uint64
	Roles        []string // "emitter" and the names of the arguments holding the address
	Undecoded    bool
	EmitterIsOwn bool
}

func (s *Server) handleAddressPage(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ctx := r.Context()
	data := map[string]any{"Title": "Address " + addr.Hex(), "Page": "address", "Address": addr.Hex()}
	if c, err := s.deps.Contracts.Contract(ctx, addr); err == nil {
		data["Contract"] = c
	} else if !errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, err)
		return
	}
	txs, err := s.deps.Chain.Txs(ctx, store.TxQuery{Address: &addr, Limit: 25})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	kind := s.addressKind(ctx, addr, data["Contract"] != nil, txs)
	events, err := s.addressEvents(ctx, addr)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	data["Txs"], data["Events"], data["Kind"] = txs, events, kind
	s.render(w, r, http.StatusOK, "address.html", data)
}

// addressKind tells a contract from a wallet: by the code the node holds
// when it can be asked, else by what the index shows (a known contract,
// or an address that sent a transaction, which only accounts do).
func (s *Server) addressKind(ctx context.Context, addr common.Address, known bool, txs []chain.Tx) string {
	if known {
		return addrContract
	}
	if s.deps.Code != nil {
		code, err := s.deps.Code(ctx, addr)
		if err == nil {
			if len(code) > 0 {
				return addrContract
			}
			return addrWallet
		}
		s.log.Warn("cannot read the code of an address", "address", addr.Hex(), "err", err)
	}
	for _, t := range txs {
		if t.From == addr {
			return addrWallet
		}
		if t.ContractAddress != nil && *t.ContractAddress == addr {
			return addrContract
		}
	}
	return addrUnknown
}

// addressEvents lists the newest events that involve addr: those it
// emitted and those whose decoded arguments name it. Without a records
// engine it falls back to the events addr emitted.
func (s *Server) addressEvents(ctx context.Context, addr common.Address) ([]addressEvent, error) {
	if s.deps.Search == nil {
		logs, err := s.deps.Chain.Logs(ctx, store.LogQuery{Address: &addr, Limit: addressEventsLimit})
		if err != nil {
			return nil, err
		}
		out := make([]addressEvent, 0, len(logs))
		for _, l := range logs {
			e := addressEvent{Emitter: l.Address.Hex(), Tx: l.TxHash.Hex(), Block: l.BlockNumber, Roles: []string{"emitter"}, EmitterIsOwn: true}
			if l.Event != nil {
				e.Name = l.Event.Name
			} else {
				e.Undecoded = true
				if len(l.Topics) > 0 {
					e.Name = l.Topics[0].Hex()
				}
			}
			out = append(out, e)
		}
		return out, nil
	}
	q, err := query.Parse("kind:event address:" + addr.Hex())
	if err != nil {
		return nil, fmt.Errorf("BUG: the address page's query does not parse: %w", err)
	}
	var out []addressEvent
	_, err = s.deps.Search.Search(ctx, store.SearchRequest{Query: q, Limit: addressEventsLimit, Order: store.NewestFirst}, func(rec record.Record) error {
		out = append(out, eventOf(rec, addr))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot search the events of %s: %w", addr.Hex(), err)
	}
	return out, nil
}

// eventOf reads an event record, and which of its parts hold addr.
func eventOf(rec record.Record, addr common.Address) addressEvent {
	str := func(k string) string { v, _ := rec.Attrs[k].(string); return v }
	e := addressEvent{Name: str("event"), Message: rec.Message, Emitter: str("contract"), EmitterName: str("contractName"), Tx: str("tx")}
	if rec.Block != nil {
		e.Block = *rec.Block
	}
	if e.Tx == "" && len(rec.TxHashes) > 0 {
		e.Tx = rec.TxHashes[0].Hex()
	}
	e.Undecoded = strings.HasPrefix(e.Name, "0x")
	if strings.EqualFold(e.Emitter, addr.Hex()) {
		e.Roles = append(e.Roles, "emitter")
		e.EmitterIsOwn = true
	}
	args, _ := rec.Attrs["args"].(map[string]any)
	var named []string
	for k, v := range args {
		if sv, ok := v.(string); ok && strings.EqualFold(sv, addr.Hex()) {
			named = append(named, k)
		}
	}
	sort.Strings(named)
	e.Roles = append(e.Roles, named...)
	return e
}
