package query

import "strings"

// FieldType is the type of a searchable field; it decides which values and
// operators the parser accepts for it.
type FieldType int

// Field types.
const (
	// TypeKeyword: exact, case-sensitive string; wildcards allowed.
	TypeKeyword FieldType = iota
	// TypeEnum: a keyword with a closed set of lowercase values (Enum);
	// matched case-insensitively, wildcards allowed. Level is also ordered.
	TypeEnum
	// TypeText: full text; field:word matches a word, field:"a b" a phrase.
	TypeText
	// TypeNumber: a number; comparisons and ranges allowed.
	TypeNumber
	// TypeTime: an RFC 3339 instant; comparisons and ranges allowed.
	TypeTime
	// TypeHash: a 32-byte hash written 0x + 64 hex digits; prefix
	// wildcards allowed (0xabc*).
	TypeHash
	// TypeAddress: a 20-byte address written 0x + 40 hex digits; prefix
	// wildcards allowed.
	TypeAddress
	// TypeAttr: an attribute (attr.a.b) whose type is known only per
	// record; every operator is allowed and values are typed by their look.
	TypeAttr
)

var typeNames = [...]string{"keyword", "enum", "text", "number", "time", "hash", "address", "attribute"}

// String names the type as the syntax help shows it.
func (t FieldType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// Field describes one searchable field.
type Field struct {
	Name string
	Type FieldType
	// Enum lists the values of a TypeEnum field, in order (for level,
	// severity order, lowest first).
	Enum []string
	// Doc is a one-line description for the syntax help.
	Doc string
}

// Levels are the record levels, lowest severity first; level comparisons
// (level:>=warn) follow this order.
var Levels = []string{"trace", "debug", "info", "warn", "error", "fatal"}

// KnownFields is the table of searchable fields, in the order the syntax
// help lists them. Attribute fields (attr.*) are not listed: any
// "attr." path is accepted.
var KnownFields = []Field{
	{"time", TypeTime, nil, "when the record happened (block time for chain records)"},
	{"source", TypeKeyword, nil, "chain, app, security or system"},
	{"kind", TypeKeyword, nil, "tx, event, revert, log, …"},
	{"level", TypeEnum, Levels, "severity; ordered, so level:>=warn works"},
	{"service", TypeKeyword, nil, "the service that logged the record"},
	{"message", TypeText, nil, "the record's text; words and \"phrases\""},
	{"tx", TypeHash, nil, "transaction hash: the record's tx and its tx links"},
	{"address", TypeAddress, nil, "any address: from, to, contract and address links"},
	{"block", TypeNumber, nil, "block number"},
	{"from", TypeAddress, nil, "transaction sender"},
	{"to", TypeAddress, nil, "transaction recipient"},
	{"contract", TypeAddress, nil, "contract that emitted the event or reverted"},
	{"event", TypeKeyword, nil, "decoded event name, e.g. Transfer"},
	{"method", TypeKeyword, nil, "decoded method name, e.g. liquidate"},
	{"status", TypeEnum, []string{"success", "failed"}, "transaction status"},
	{"revertReason", TypeKeyword, nil, "decoded revert message or custom error name"},
	{"revertKind", TypeEnum, []string{"error", "panic", "custom", "empty", "unknown"}, "how the transaction reverted"},
	{"gasUsed", TypeNumber, nil, "gas used by the transaction"},
	{"value", TypeNumber, nil, "wei sent with the transaction (exact decimal)"},
}

// AttrPrefix starts attribute field names: attr.user.id.
const AttrPrefix = "attr."

// LookupField returns the field named name. Known names match
// case-insensitively and the canonical spelling is returned; any
// "attr."-prefixed path with non-empty segments is an attribute field,
// returned with its name as written.
func LookupField(name string) (Field, bool) {
	for _, f := range KnownFields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	if len(name) > len(AttrPrefix) && strings.EqualFold(name[:len(AttrPrefix)], AttrPrefix) {
		path := name[len(AttrPrefix):]
		for _, seg := range strings.Split(path, ".") {
			if seg == "" {
				return Field{}, false
			}
		}
		return Field{Name: AttrPrefix + path, Type: TypeAttr, Doc: "attribute"}, true
	}
	return Field{}, false
}
