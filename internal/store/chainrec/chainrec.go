package chainrec

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
)

// Append appends the searchable records of a block to out: one per
// transaction, one per log and one per decoded revert, in chain order.
// A chain can claim any time; the records take the block's time moved
// into [minTime, maxTime], the range the records engine can store.
func Append(out []record.Record, b *chain.Block, minTime, maxTime time.Time) []record.Record {
	t := b.Time
	if t.Before(minTime) {
		t = minTime
	} else if t.After(maxTime) {
		t = maxTime
	}
	num := b.Number
	for i := range b.Txs {
		tx := &b.Txs[i]
		out = append(out, txRecord(t, &num, tx))
		for j := range tx.Logs {
			out = append(out, logRecord(t, &num, tx, &tx.Logs[j]))
		}
		if tx.Revert != nil {
			out = append(out, revertRecord(t, &num, tx))
		}
	}
	return out
}

func txRecord(t time.Time, block *uint64, tx *chain.Tx) record.Record {
	attrs := map[string]any{
		"hash":    tx.Hash.Hex(),
		"from":    tx.From.Hex(),
		"gasUsed": json.Number(strconv.FormatUint(tx.GasUsed, 10)),
		"status":  status(tx),
		"block":   json.Number(strconv.FormatUint(*block, 10)),
		"txIndex": json.Number(strconv.FormatUint(uint64(tx.Index), 10)),
	}
	if tx.Value != nil {
		attrs["value"] = json.Number(tx.Value.String())
	}
	addrs := []common.Address{tx.From}
	if tx.To != nil {
		attrs["to"] = tx.To.Hex()
		addrs = append(addrs, *tx.To)
	}
	// contract is the contract the transaction called or created.
	switch {
	case tx.ContractAddress != nil:
		attrs["contract"] = tx.ContractAddress.Hex()
		addrs = append(addrs, *tx.ContractAddress)
	case tx.To != nil && len(tx.Input) > 0:
		attrs["contract"] = tx.To.Hex()
	}

	var msg strings.Builder
	switch {
	case tx.Call != nil:
		attrs["method"] = tx.Call.Method
		if tx.Call.Contract != "" {
			attrs["contractName"] = tx.Call.Contract
		}
		if len(tx.Call.Args) > 0 {
			attrs["args"] = argAttrs(tx.Call.Args)
			addrs = argAddresses(tx.Call.Args, addrs)
		}
		writeCall(&msg, tx.Call.Method, tx.Call.Args)
	case tx.To == nil:
		msg.WriteString("create")
		if tx.ContractAddress != nil {
			msg.WriteString(" " + tx.ContractAddress.Hex())
		}
	case len(tx.Input) >= 4:
		sel := "0x" + hex.EncodeToString(tx.Input[:4])
		attrs["method"] = sel
		msg.WriteString(sel)
	default:
		msg.WriteString("transfer")
		if tx.Value != nil {
			msg.WriteString(" of " + tx.Value.String() + " wei")
		}
	}
	msg.WriteString(" by " + tx.From.Hex())
	if tx.To != nil {
		msg.WriteString(" → ")
		if tx.Call != nil && tx.Call.Contract != "" {
			msg.WriteString(tx.Call.Contract)
		} else {
			msg.WriteString(tx.To.Hex())
		}
	}
	// A failed transaction carries its decoded revert, so that the fields
	// of the language that describe a transaction (revertReason,
	// revertKind) group, count and filter its tx record like the others;
	// the revert record holds the error's arguments besides.
	if r := tx.Revert; r != nil {
		attrs["revertKind"] = r.Kind
		attrs["revertReason"] = revertReason(r)
	}
	level := "info"
	if tx.Failed() {
		level = "error"
		msg.WriteString(" failed")
		if tx.Revert != nil && tx.Revert.Message != "" {
			msg.WriteString(": " + clip(tx.Revert.Message))
		}
	}
	return record.Record{
		Time: t, Source: record.SourceChain, Kind: record.KindTx, Level: level,
		Message: msg.String(), Attrs: attrs,
		TxHashes: []common.Hash{tx.Hash}, Addresses: dedupe(addrs), Block: block,
	}
}

func logRecord(t time.Time, block *uint64, tx *chain.Tx, l *chain.Log) record.Record {
	attrs := map[string]any{
		"contract": l.Address.Hex(),
		"tx":       tx.Hash.Hex(),
		"block":    json.Number(strconv.FormatUint(*block, 10)),
		"logIndex": json.Number(strconv.FormatUint(uint64(l.Index), 10)),
	}
	addrs := []common.Address{l.Address}
	var msg strings.Builder
	if e := l.Event; e != nil {
		attrs["event"] = e.Name
		if e.Contract != "" {
			attrs["contractName"] = e.Contract
		}
		if len(e.Args) > 0 {
			attrs["args"] = argAttrs(e.Args)
			addrs = argAddresses(e.Args, addrs)
		}
		writeCall(&msg, e.Name, e.Args)
	} else {
		msg.WriteString("log")
		if len(l.Topics) > 0 {
			attrs["event"] = l.Topics[0].Hex()
			msg.WriteString(" " + l.Topics[0].Hex())
		}
	}
	msg.WriteString(" from " + l.Address.Hex())
	return record.Record{
		Time: t, Source: record.SourceChain, Kind: record.KindEvent, Level: "info",
		Message: msg.String(), Attrs: attrs,
		TxHashes: []common.Hash{tx.Hash}, Addresses: dedupe(addrs), Block: block,
	}
}

func revertRecord(t time.Time, block *uint64, tx *chain.Tx) record.Record {
	r := tx.Revert
	attrs := map[string]any{
		"revertKind":   r.Kind,
		"revertReason": revertReason(r),
		"tx":           tx.Hash.Hex(),
		"from":         tx.From.Hex(),
		"block":        json.Number(strconv.FormatUint(*block, 10)),
	}
	if r.Name != "" {
		attrs["revertName"] = r.Name
	}
	addrs := []common.Address{tx.From}
	if tx.To != nil {
		attrs["to"] = tx.To.Hex()
		attrs["contract"] = tx.To.Hex()
		addrs = append(addrs, *tx.To)
	}
	if r.Contract != "" {
		attrs["contractName"] = r.Contract
	} else if tx.Call != nil && tx.Call.Contract != "" {
		attrs["contractName"] = tx.Call.Contract
	}
	if tx.Call != nil {
		attrs["method"] = tx.Call.Method
	}
	if len(r.Args) > 0 {
		attrs["args"] = argAttrs(r.Args)
		addrs = argAddresses(r.Args, addrs)
	}
	msg := r.Message
	if msg == "" {
		msg = r.Name
	}
	if msg == "" {
		msg = r.Kind
	}
	return record.Record{
		Time: t, Source: record.SourceChain, Kind: record.KindRevert, Level: "error",
		Message: clip(msg), Attrs: attrs,
		TxHashes: []common.Hash{tx.Hash}, Addresses: dedupe(addrs), Block: block,
	}
}

// revertReason is what "top revertReason" groups by: the custom error's
// name, the require message, the panic code, or the kind.
func revertReason(r *chain.Revert) string {
	switch r.Kind {
	case chain.RevertCustom:
		if r.Name != "" {
			return r.Name
		}
	case chain.RevertError:
		return clip(r.Message)
	case chain.RevertPanic:
		return "Panic(0x" + strconv.FormatUint(r.PanicCode, 16) + ")"
	}
	return r.Kind
}

// argAttrs returns decoded arguments as attributes by name: numbers as
// numbers (so attr.args.amount:>1000 compares numerically), bools as
// bools, everything else as its text. Unnamed or repeated names become
// argN.
func argAttrs(args []chain.Arg) map[string]any {
	m := make(map[string]any, len(args))
	for i, a := range args {
		name := a.Name
		if _, dup := m[name]; name == "" || dup {
			name = "arg" + strconv.Itoa(i)
		}
		var v any = a.Value
		switch {
		case strings.HasPrefix(a.Type, "uint") || strings.HasPrefix(a.Type, "int"):
			if isDecimal(a.Value) && !strings.Contains(a.Type, "[") {
				v = json.Number(a.Value)
			}
		case a.Type == "bool":
			if b, err := strconv.ParseBool(a.Value); err == nil {
				v = b
			}
		}
		m[name] = v
	}
	return m
}

// isDecimal reports whether s is an optionally negative decimal integer,
// which JSON accepts as a number.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// argAddresses appends the address arguments to addrs: a transfer's
// recipient is linked to it.
func argAddresses(args []chain.Arg, addrs []common.Address) []common.Address {
	for _, a := range args {
		if a.Type == "address" && common.IsHexAddress(a.Value) {
			addrs = append(addrs, common.HexToAddress(a.Value))
		}
	}
	return addrs
}

func dedupe(addrs []common.Address) []common.Address {
	out := addrs[:0]
	for i, a := range addrs {
		seen := false
		for _, b := range addrs[:i] {
			if a == b {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, a)
		}
	}
	return out
}

// writeCall writes name(arg=value, …), each value clipped.
func writeCall(w *strings.Builder, name string, args []chain.Arg) {
	w.WriteString(clip(name))
	w.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			w.WriteString(", ")
		}
		if a.Name != "" {
			w.WriteString(clip(a.Name) + "=")
		}
		w.WriteString(clip(a.Value))
	}
	w.WriteByte(')')
}

// clip shortens s to a length a message line can carry; the whole value
// stays in the attributes.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func status(tx *chain.Tx) string {
	if tx.Failed() {
		return "failed"
	}
	return "success"
}
