package response

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Batch is a Safe Transaction Builder batch file: the JSON the Safe{Wallet}
// Transaction Builder app exports and imports (its BatchFile model).
type Batch struct {
	Version      string    `json:"version"`
	ChainID      string    `json:"chainId"`
	CreatedAt    int64     `json:"createdAt"`
	Meta         BatchMeta `json:"meta"`
	Transactions []BatchTx `json:"transactions"`
}

// BatchMeta describes a batch. Checksum is the Transaction Builder's
// checksum of the whole file (see Checksum).
type BatchMeta struct {
	Name                    string `json:"name"`
	Description             string `json:"description"`
	TxBuilderVersion        string `json:"txBuilderVersion"`
	CreatedFromSafeAddress  string `json:"createdFromSafeAddress"`
	CreatedFromOwnerAddress string `json:"createdFromOwnerAddress"`
	Checksum                string `json:"checksum"`
}

// BatchTx is one transaction of a batch: either Data, or a method with its
// inputs' values by name (Data is then null, as the builder writes it).
type BatchTx struct {
	To                   string            `json:"to"`
	Value                string            `json:"value"`
	Data                 *string           `json:"data"`
	ContractMethod       *BatchMethod      `json:"contractMethod,omitempty"`
	ContractInputsValues map[string]string `json:"contractInputsValues,omitempty"`
}

// BatchMethod is a called function as the builder describes it.
type BatchMethod struct {
	Inputs  []BatchInput `json:"inputs"`
	Name    string       `json:"name"`
	Payable bool         `json:"payable"`
}

// BatchInput is one input of a BatchMethod.
type BatchInput struct {
	InternalType string `json:"internalType"`
	Name         string `json:"name"`
	Type         string `json:"type"`
}

// batchTxBuilderVersion is the Transaction Builder version the files name.
const batchTxBuilderVersion = "1.18.0"

// maxBatch bounds a batch file ParseBatch reads.
const maxBatch = 1 << 20

// newBatch returns a batch of the actions' calls, checksummed.
func newBatch(chainID *big.Int, safe common.Address, createdAt int64, name string, calls []batchCall) (*Batch, error) {
	b := &Batch{
		Version: "1.0", ChainID: chainID.String(), CreatedAt: createdAt,
		Meta:         BatchMeta{Name: name, TxBuilderVersion: batchTxBuilderVersion},
		Transactions: []BatchTx{},
	}
	if safe != (common.Address{}) {
		b.Meta.CreatedFromSafeAddress = safe.Hex()
	}
	for _, c := range calls {
		tx := BatchTx{To: c.to.Hex(), Value: "0"}
		if c.method != nil {
			m := &BatchMethod{Name: c.method.RawName, Payable: c.method.Payable, Inputs: []BatchInput{}}
			vals := make(map[string]string, len(c.method.Inputs))
			for i, in := range c.method.Inputs {
				name := in.Name
				if name == "" {
					name = fmt.Sprintf("arg%d", i+1)
				}
				internal := in.Type.String()
				m.Inputs = append(m.Inputs, BatchInput{InternalType: internal, Name: name, Type: in.Type.String()})
				if i < len(c.args) {
					vals[name] = c.args[i]
				}
			}
			tx.ContractMethod, tx.ContractInputsValues = m, vals
		} else {
			d := "0x" + common.Bytes2Hex(c.data)
			tx.Data = &d
		}
		b.Transactions = append(b.Transactions, tx)
	}
	sum, err := b.Checksum()
	if err != nil {
		return nil, err
	}
	b.Meta.Checksum = sum
	return b, nil
}

// batchCall is one call of a batch.
type batchCall struct {
	to     common.Address
	data   []byte
	method *abi.Method
	args   []string
}

// ParseBatch reads a Transaction Builder batch file and checks it: version
// 1.0, a decimal chain id, at least one transaction, each with an address,
// a decimal value and data or a method, and a checksum (when present) that
// matches the file.
func ParseBatch(data []byte) (*Batch, error) {
	if len(data) > maxBatch {
		return nil, fmt.Errorf("%w: a batch file is at most %d bytes", ErrInvalid, maxBatch)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Batch
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%w: not a Transaction Builder batch: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: text after the batch", ErrInvalid)
	}
	if b.Version != "1.0" {
		return nil, fmt.Errorf("%w: batch version %q, want \"1.0\"", ErrInvalid, b.Version)
	}
	if _, ok := new(big.Int).SetString(b.ChainID, 10); !ok {
		return nil, fmt.Errorf("%w: chainId %q is not a decimal number", ErrInvalid, b.ChainID)
	}
	if len(b.Transactions) == 0 {
		return nil, fmt.Errorf("%w: the batch has no transactions", ErrInvalid)
	}
	for i, tx := range b.Transactions {
		if !common.IsHexAddress(tx.To) {
			return nil, fmt.Errorf("%w: transaction %d: to %q is not an address", ErrInvalid, i, tx.To)
		}
		if v, ok := new(big.Int).SetString(tx.Value, 10); !ok || v.Sign() < 0 {
			return nil, fmt.Errorf("%w: transaction %d: value %q is not a decimal amount", ErrInvalid, i, tx.Value)
		}
		switch {
		case tx.Data != nil:
			if _, err := hexDecode(*tx.Data); err != nil {
				return nil, fmt.Errorf("%w: transaction %d: data: %v", ErrInvalid, i, err)
			}
		case tx.ContractMethod != nil:
			for _, in := range tx.ContractMethod.Inputs {
				if _, ok := tx.ContractInputsValues[in.Name]; !ok {
					return nil, fmt.Errorf("%w: transaction %d: no value for input %q", ErrInvalid, i, in.Name)
				}
			}
		default:
			return nil, fmt.Errorf("%w: transaction %d has neither data nor a contract method", ErrInvalid, i)
		}
	}
	if b.Meta.Checksum != "" {
		sum, err := checksumOf(data)
		if err != nil {
			return nil, err
		}
		if sum != b.Meta.Checksum {
			return nil, fmt.Errorf("%w: checksum %s does not match the batch (%s)", ErrInvalid, b.Meta.Checksum, sum)
		}
	}
	return &b, nil
}

func hexDecode(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "0x") || len(s)%2 != 0 {
		return nil, fmt.Errorf("%q is not 0x-prefixed hex", s)
	}
	return common.ParseHexOrString(s)
}

// Checksum is the Transaction Builder's checksum of the batch: keccak256 of
// its canonical serialization with meta.name set to null (the builder's
// lib/checksum.ts), so a renamed batch keeps its checksum.
func (b *Batch) Checksum() (string, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("cannot encode the batch: %w", err)
	}
	return checksumOf(raw)
}

// checksumOf is the checksum of a batch file as written.
func checksumOf(file []byte) (string, error) {
	s, err := checksumText(file)
	if err != nil {
		return "", err
	}
	return crypto.Keccak256Hash([]byte(s)).Hex(), nil
}

// checksumText is the text the checksum of a batch file hashes.
func checksumText(file []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("%w: cannot read the batch: %v", ErrInvalid, err)
	}
	meta, _ := v["meta"].(map[string]any)
	if meta != nil {
		meta["name"] = nil
		// The builder hashes the file as it was before the checksum was added.
		delete(meta, "checksum")
	}
	var sb strings.Builder
	serialize(&sb, v)
	return sb.String(), nil
}

// serialize writes v as the builder's serializeJSONObject does: arrays as
// [a,b], objects as {["k1","k2"]v1,v2,} with keys sorted by UTF-16 code
// units, and everything else as JavaScript's JSON.stringify writes it.
func serialize(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case []any:
		sb.WriteByte('[')
		for i, el := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			serialize(sb, el)
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		sb.WriteString("{[")
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			jsString(sb, k)
		}
		sb.WriteByte(']')
		for _, k := range keys {
			serialize(sb, x[k])
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
	case string:
		jsString(sb, x)
	case json.Number:
		sb.WriteString(jsNumber(x))
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case nil:
		sb.WriteString("null")
	default:
		panic(fmt.Sprintf("BUG: serialize of %T", v))
	}
}

// compareUTF16 orders strings as JavaScript's default sort does.
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// jsString writes s as JSON.stringify does (s is valid UTF-8, as JSON
// decoding leaves it).
func jsString(sb *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\b':
			sb.WriteString(`\b`)
		case r == '\f':
			sb.WriteString(`\f`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20:
			sb.WriteString(`\u00`)
			sb.WriteByte(hex[r>>4])
			sb.WriteByte(hex[r&0xf])
		case r == utf8.RuneError:
			sb.WriteString("\ufffd")
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
}

// jsNumber writes a JSON number as JavaScript prints the double it parses to.
func jsNumber(n json.Number) string {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}
