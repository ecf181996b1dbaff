package web

import (
	"net/http"
	"strconv"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// maxABIBody caps a contract upload; real ABIs are well under a megabyte.
const maxABIBody = 4 << 20

func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, errorf(kindBadRequest, "limit must be a number from 1 to 1000, got %q", v)
	}
	return n, nil
}

func parseAddress(s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, errorf(kindBadRequest, "%q is not an address (want 0x followed by 40 hex digits)", s)
	}
	return common.HexToAddress(s), nil
}

func parseHash(s string) (common.Hash, error) {
	b, err := hexBytes(s)
	if err != nil || len(b) != common.HashLength {
		return common.Hash{}, errorf(kindBadRequest, "%q is not a transaction hash (want 0x followed by 64 hex digits)", s)
	}
	return common.BytesToHash(b), nil
}

func hexBytes(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	return common.ParseHexOrString("0x" + s)
}

func (s *Server) handleBlocks(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := store.BlockQuery{Limit: limit}
	if v := r.URL.Query().Get("before"); v != "" {
		if q.Before, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, r, s.log, errorf(kindBadRequest, "before must be a block number, got %q", v))
			return
		}
	}
	blocks, err := s.deps.Chain.Blocks(r.Context(), q)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]blockJSON, 0, len(blocks))
	for _, b := range blocks {
		out = append(out, toBlockJSON(b))
	}
	writeData(w, out)
}

func (s *Server) txQuery(r *http.Request) (store.TxQuery, error) {
	limit, err := queryLimit(r)
	if err != nil {
		return store.TxQuery{}, err
	}
	q := store.TxQuery{Limit: limit}
	switch st := r.URL.Query().Get("status"); st {
	case "", "success", "failed":
		q.Status = st
	default:
		return q, errorf(kindBadRequest, "status must be success or failed, got %q", st)
	}
	if v := r.URL.Query().Get("address"); v != "" {
		a, err := parseAddress(v)
		if err != nil {
			return q, err
		}
		q.Address = &a
	}
	if v := r.URL.Query().Get("block"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return q, errorf(kindBadRequest, "block must be a block number, got %q", v)
		}
		q.Block = &n
	}
	return q, nil
}

func (s *Server) handleTxs(w http.ResponseWriter, r *http.Request) {
	q, err := s.txQuery(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	txs, err := s.deps.Chain.Txs(r.Context(), q)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]txJSON, 0, len(txs))
	for _, t := range txs {
		out = append(out, toTxJSON(t, false))
	}
	writeData(w, out)
}

func (s *Server) handleTx(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("hash"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	tx, err := s.deps.Chain.Tx(r.Context(), h)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, toTxJSON(tx, true))
}
