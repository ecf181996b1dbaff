package decode

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

var kitchen = common.HexToAddress("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9")

// kitchenABI exercises every kind of type, for the differential tests
// against go-ethereum's decoder.
const kitchenABI = `[
 {"type": "function", "name": "ints", "inputs": [{"name": "a", "type": "uint8"}, {"name": "b", "type": "int16"}, {"name": "c", "type": "int256"}, {"name": "d", "type": "uint256"}, {"name": "e", "type": "int64"}]},
 {"type": "function", "name": "words", "inputs": [{"name": "a", "type": "address"}, {"name": "b", "type": "bool"}, {"name": "c", "type": "bytes7"}, {"name": "d", "type": "bytes32"}, {"name": "e", "type": "function"}]},
 {"type": "function", "name": "dyn", "inputs": [{"name": "s", "type": "string"}, {"name": "b", "type": "bytes"}, {"name": "", "type": "string[2]"}]},
 {"type": "function", "name": "arrays", "inputs": [{"name": "a", "type": "uint256[]"}, {"name": "b", "type": "address[2]"}, {"name": "c", "type": "bytes32[][]"}, {"name": "d", "type": "int8[2][3]"}]},
 {"type": "function", "name": "tuples", "inputs": [
   {"name": "t", "type": "tuple[]", "components": [{"name": "id", "type": "uint64"}, {"name": "label", "type": "string"}]},
   {"name": "s", "type": "tuple", "components": [{"name": "o", "type": "int8"}, {"name": "p", "type": "bool[2]"}]},
   {"name": "n", "type": "uint16"}]}
]`

type kitchenItem struct {
	Id    uint64
	Label string
}

type kitchenStatic struct {
	O int8
	P [2]bool
}

// kitchenSeeds returns real encodings of every kitchen function.
func kitchenSeeds(t testing.TB) [][]byte {
	a := gethABI(t, []byte(kitchenABI))
	neg := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255))
	big1 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	return [][]byte{
		pack(t, a, "ints", uint8(255), int16(-300), neg, big1, int64(-1)),
		pack(t, a, "ints", uint8(0), int16(32767), big.NewInt(-1), big.NewInt(0), int64(1<<62)),
		pack(t, a, "words", alice, true, [7]byte{1, 2, 3}, [32]byte{0xff}, [24]byte{0xaa, 0xbb}),
		pack(t, a, "dyn", "héllo \"world\"\n\x01", []byte{0, 1, 2}, [2]string{"", "x"}),
		pack(t, a, "dyn", strings.Repeat("z", MaxValueBytes+10), bytes.Repeat([]byte{7}, MaxValueBytes+1), [2]string{"a", "b"}),
		pack(t, a, "arrays", []*big.Int{big.NewInt(1), big.NewInt(2)}, [2]common.Address{alice, bob}, [][][32]byte{{{1}}, {}, {{2}, {3}}}, [3][2]int8{{-1, 1}, {-128, 127}, {0, 0}}),
		pack(t, a, "tuples", []kitchenItem{{1, "one"}, {2, ""}}, kitchenStatic{O: -5, P: [2]bool{true, false}}, uint16(9)),
	}
}

// renderGeth renders a value decoded by go-ethereum the way chain.Arg
// documents it; the differential tests compare it with our decoder.
func renderGeth(t abi.Type, v any, nested bool) string {
	var s string
	switch t.T {
	case abi.IntTy, abi.UintTy:
		s = fmt.Sprint(v)
	case abi.BoolTy:
		s = strconv.FormatBool(v.(bool))
	case abi.AddressTy:
		s = v.(common.Address).Hex()
	case abi.StringTy:
		return string(appendText(nil, sanitize([]byte(v.(string))), nested))
	case abi.BytesTy:
		return string(appendHex(nil, v.([]byte), nested))
	case abi.FixedBytesTy, abi.FunctionTy:
		rv := reflect.ValueOf(v)
		b := make([]byte, rv.Len())
		reflect.Copy(reflect.ValueOf(b), rv)
		s = "0x" + hex.EncodeToString(b)
	case abi.SliceTy, abi.ArrayTy:
		rv := reflect.ValueOf(v)
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = renderGeth(*t.Elem, rv.Index(i).Interface(), true)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case abi.TupleTy:
		rv := reflect.ValueOf(v)
		parts := make([]string, len(t.TupleElems))
		for i, et := range t.TupleElems {
			parts[i] = string(appendJSONString(nil, argName(t.TupleRawNames[i], i))) + ":" + renderGeth(*et, rv.Field(i).Interface(), true)
		}
		return "{" + strings.Join(parts, ",") + "}"
	default:
		panic(fmt.Sprintf("type %v", t))
	}
	if nested {
		return `"` + s + `"`
	}
	return s
}

// checkArgs checks properties every decoded argument list has.
func checkArgs(t *testing.T, args []chain.Arg) {
	t.Helper()
	for _, a := range args {
		if !utf8.ValidString(a.Value) || !utf8.ValidString(a.Name) {
			t.Fatalf("argument %s is not valid UTF-8: %q", a.Name, a.Value)
		}
		if strings.HasPrefix(a.Type, "(") || strings.HasSuffix(a.Type, "]") {
			if !json.Valid([]byte(a.Value)) {
				t.Fatalf("argument %s of type %s is not valid JSON: %s", a.Name, a.Type, a.Value)
			}
		}
	}
}

// gethUnpack decodes with go-ethereum, turning its panics into errors.
func gethUnpack(args abi.Arguments, data []byte) (vals []any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("go-ethereum panicked: %v", p)
		}
	}()
	return args.UnpackValues(data)
}

func fuzzRegistry(t testing.TB) *Registry {
	r := newTestRegistry(t)
	if err := r.Add(kitchen, "Kitchen", []byte(kitchenABI)); err != nil {
		t.Fatal(err)
	}
	return r
}

func FuzzDecodeCall(f *testing.F) {
	r := fuzzRegistry(f)
	ref := gethABI(f, []byte(kitchenABI))
	for _, s := range kitchenSeeds(f) {
		f.Add(s)
	}
	f.Add(pack(f, erc20ABI(f), "transferFrom", alice, bob, big.NewInt(3)))
	f.Add([]byte{0xa9, 0x05, 0x9c, 0xbb})
	f.Fuzz(func(t *testing.T, input []byte) {
		call, err := r.DecodeCall(&kitchen, input)
		if err != nil {
			if call != nil {
				t.Fatal("both a call and an error")
			}
			if strings.Contains(err.Error(), "BUG") {
				t.Fatal(err)
			}
			if len(input) < 4 || errors.Is(err, errBudget) || errors.Is(err, ErrUnknown) {
				return
			}
			// Every canonical encoding that go-ethereum decodes must decode.
			m, merr := ref.MethodById(input)
			if merr != nil {
				return
			}
			vals, gerr := gethUnpack(m.Inputs, input[4:])
			if gerr != nil {
				return
			}
			if again, perr := m.Inputs.Pack(vals...); perr == nil && bytes.Equal(again, input[4:]) {
				t.Fatalf("canonical encoding of %s refused: %v", m.Sig, err)
			}
			return
		}
		checkArgs(t, call.Args)
		m, merr := ref.MethodById(input)
		if merr != nil {
			return // a bundled function
		}
		vals, gerr := gethUnpack(m.Inputs, input[4:])
		if gerr != nil {
			t.Fatalf("decoded %s but go-ethereum refuses: %v", m.Sig, gerr)
		}
		for i, in := range m.Inputs {
			if want := renderGeth(in.Type, vals[i], false); call.Args[i].Value != want {
				t.Fatalf("%s argument %d:\n got %s\nwant %s", m.Sig, i, call.Args[i].Value, want)
			}
		}
	})
}

func TestKitchenSeedsMatchGoEthereum(t *testing.T) {
	r := fuzzRegistry(t)
	ref := gethABI(t, []byte(kitchenABI))
	for _, in := range kitchenSeeds(t) {
		call, err := r.DecodeCall(&kitchen, in)
		if err != nil {
			t.Fatalf("%x: %v", in[:4], err)
		}
		checkArgs(t, call.Args)
		m, _ := ref.MethodById(in)
		vals, err := m.Inputs.UnpackValues(in[4:])
		if err != nil {
			t.Fatal(err)
		}
		for i, arg := range m.Inputs {
			if want := renderGeth(arg.Type, vals[i], false); call.Args[i].Value != want {
				t.Errorf("%s argument %d:\n got %s\nwant %s", m.Sig, i, call.Args[i].Value, want)
			}
		}
	}
}

// TestDecodeBudget feeds nested arrays whose elements all share one offset:
// a 1 MiB input that would expand into a billion values.
func TestDecodeBudget(t *testing.T) {
	r := NewRegistry()
	js := `[{"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint256[][]"}]}]`
	if err := r.Add(kitchen, "Bomb", []byte(js)); err != nil {
		t.Fatal(err)
	}
	// a holds n inner arrays, all at the same offset: one array of n words.
	n := (MaxDataSize - 4 - 96) / 64
	word := func(v int) []byte { return common.BigToHash(big.NewInt(int64(v))).Bytes() }
	in := append([]byte{}, selectorBytes("f(uint256[][])")...)
	in = append(in, word(32)...) // offset of a
	in = append(in, word(n)...)  // len(a)
	for i := 0; i < n; i++ {
		in = append(in, word(32*n)...) // a[i], just past the heads
	}
	in = append(in, word(n)...)
	in = append(in, make([]byte, 32*n)...)
	if len(in) > MaxDataSize {
		t.Fatalf("input of %d bytes", len(in))
	}
	call, err := r.DecodeCall(&kitchen, in)
	if !errors.Is(err, errBudget) {
		t.Fatalf("got a call of %d args, error %v; want errBudget", len(call.Args), err)
	}
}

func FuzzDecodeLog(f *testing.F) {
	r := fuzzRegistry(f)
	ids := []common.Hash{
		eventID("Transfer(address,address,uint256)"),
		eventID("Borrowed(address,uint256,string)"),
		eventID("TransferBatch(address,address,address,uint256[],uint256[])"),
		eventID("AnswerUpdated(int256,uint256,uint256)"),
		eventID("URI(string,uint256)"),
	}
	erc1155 := gethABI(f, mustBundled(f, "ERC1155"))
	batch, err := erc1155.Events["TransferBatch"].Inputs.NonIndexed().Pack([]*big.Int{big.NewInt(1)}, []*big.Int{big.NewInt(2)})
	if err != nil {
		f.Fatal(err)
	}
	uri, err := erc1155.Events["URI"].Inputs.NonIndexed().Pack("ipfs://x")
	if err != nil {
		f.Fatal(err)
	}
	topics := func(hs ...common.Hash) []byte {
		var b []byte
		for _, h := range hs {
			b = append(b, h[:]...)
		}
		return b
	}
	f.Add(uint8(0), false, topics(addrTopic(alice), addrTopic(bob)), common.BigToHash(big.NewInt(5)).Bytes())
	f.Add(uint8(0), false, topics(addrTopic(alice), addrTopic(bob), uintTopic(9)), []byte{})
	f.Add(uint8(1), true, topics(addrTopic(alice), uintTopic(1)), common.BigToHash(big.NewInt(5)).Bytes())
	f.Add(uint8(2), false, topics(addrTopic(alice), addrTopic(alice), addrTopic(bob)), batch)
	f.Add(uint8(3), false, topics(common.BigToHash(big.NewInt(-7)), uintTopic(3)), common.BigToHash(big.NewInt(5)).Bytes())
	f.Add(uint8(4), false, topics(uintTopic(3)), uri)
	ref := referenceABIs(f)
	f.Fuzz(func(t *testing.T, which uint8, atVault bool, rest, data []byte) {
		l := chain.Log{Address: token, Data: data}
		if atVault {
			l.Address = vault
		}
		if int(which) < len(ids) {
			l.Topics = append(l.Topics, ids[which])
		}
		for len(rest) >= 32 && len(l.Topics) < 4 {
			l.Topics = append(l.Topics, common.BytesToHash(rest[:32]))
			rest = rest[32:]
		}
		ev, err := r.decodeEvent(&l)
		if err != nil {
			if ev != nil || strings.Contains(err.Error(), "BUG") {
				t.Fatal(ev, err)
			}
			return
		}
		if len(ev.Args) < len(l.Topics)-1 {
			t.Fatalf("%s has %d args for %d topics", ev.Signature, len(ev.Args), len(l.Topics))
		}
		checkArgs(t, ev.Args)
		// go-ethereum, given an event of that signature with as many
		// indexed inputs as the log has topics, decodes the same values.
		for _, want := range ref.events[ev.Signature] {
			indexed := 0
			for _, in := range want.Inputs {
				if in.Indexed {
					indexed++
				}
			}
			if want.Anonymous || indexed != len(l.Topics)-1 {
				continue
			}
			if len(ev.Args) != len(want.Inputs) {
				t.Fatalf("%s: %d args, go-ethereum has %d inputs", ev.Signature, len(ev.Args), len(want.Inputs))
			}
			vals, err := gethUnpack(want.Inputs.NonIndexed(), data)
			if err != nil {
				t.Fatalf("decoded %s but go-ethereum refuses its data: %v", ev.Signature, err)
			}
			var indexedArgs abi.Arguments
			for _, in := range want.Inputs {
				if in.Indexed {
					indexedArgs = append(indexedArgs, in)
				}
			}
			topics := map[string]any{}
			if err := abi.ParseTopicsIntoMap(topics, indexedArgs, l.Topics[1:]); err != nil {
				t.Fatalf("decoded %s but go-ethereum refuses its topics: %v", ev.Signature, err)
			}
			next := 0
			for i, in := range want.Inputs {
				var v any
				if in.Indexed {
					if in.Type.T == abi.StringTy || in.Type.T == abi.BytesTy || in.Type.T == abi.SliceTy || in.Type.T == abi.ArrayTy || in.Type.T == abi.TupleTy {
						continue // a hash of the value: nothing to decode
					}
					v = topics[in.Name]
				} else {
					v = vals[next]
					next++
				}
				if got, want := ev.Args[i].Value, renderGeth(in.Type, v, false); got != want {
					t.Fatalf("%s argument %d (%s):\n got %s\nwant %s", ev.Signature, i, in.Name, got, want)
				}
			}
			return
		}
	})
}

// reference holds go-ethereum's reading of every ABI the fuzz registry
// knows (registered and bundled), by signature, for differential checks.
type reference struct {
	events map[string][]abi.Event
	errors map[string]abi.Error
}

func referenceABIs(t testing.TB) reference {
	ref := reference{events: map[string][]abi.Event{}, errors: map[string]abi.Error{}}
	add := func(a abi.ABI) {
		for _, e := range a.Events {
			ref.events[e.Sig] = append(ref.events[e.Sig], e)
		}
		for _, e := range a.Errors {
			if _, ok := ref.errors[e.Sig]; !ok {
				ref.errors[e.Sig] = e
			}
		}
	}
	add(gethABI(t, []byte(kitchenABI)))
	add(gethABI(t, readFile(t, "vault.abi.json")))
	add(gethABI(t, readFile(t, "router.abi.json")))
	files, err := bundledFiles.ReadDir("bundled")
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range files {
		add(gethABI(t, mustBundled(t, strings.TrimSuffix(fi.Name(), ".json"))))
	}
	return ref
}

func FuzzDecodeRevert(f *testing.F) {
	r := fuzzRegistry(f)
	vaultABI := gethABI(f, readFile(f, "vault.abi.json"))
	f.Add([]byte{})
	f.Add(append(selectorBytes("Error(string)"), mustPackArgs(f, "string", "not enough \xff")...))
	f.Add(append(selectorBytes("Panic(uint256)"), mustPackArgs(f, "uint256", big.NewInt(0x11))...))
	f.Add(packError(f, vaultABI, "InsufficientCollateral", alice, big.NewInt(5), big.NewInt(3)))
	f.Add(packError(f, vaultABI, "PositionRejected", alice, big.NewInt(5), [32]byte{1}, vaultPosition{Asset: token, Size: big.NewInt(1), Long: true}))
	f.Add(packError(f, erc20ABI(f), "ERC20InsufficientAllowance", bob, big.NewInt(1), big.NewInt(2)))
	f.Add([]byte{0xde, 0xad, 0xbe, 0xef})
	kinds := map[string]bool{chain.RevertError: true, chain.RevertPanic: true, chain.RevertCustom: true, chain.RevertEmpty: true, chain.RevertUnknown: true}
	ref := referenceABIs(f)
	stringT, _ := abi.NewType("string", "", nil)
	uintT, _ := abi.NewType("uint256", "", nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		rev := r.DecodeRevert(&router, data)
		if rev == nil || !kinds[rev.Kind] {
			t.Fatalf("revert %+v", rev)
		}
		if !utf8.ValidString(rev.Message) || strings.Contains(rev.Message, "BUG") {
			t.Fatalf("message %q", rev.Message)
		}
		if len(rev.Message) > MaxValueBytes+len(truncMark) && rev.Kind != chain.RevertUnknown {
			t.Fatalf("message of %d bytes", len(rev.Message))
		}
		if rev.Kind == chain.RevertCustom {
			checkArgs(t, rev.Args)
		}
		if (rev.Kind == chain.RevertEmpty) != (len(data) == 0) {
			t.Fatalf("kind %s for %d bytes", rev.Kind, len(data))
		}
		// Agreement with go-ethereum's decoder on what was decoded.
		switch rev.Kind {
		case chain.RevertError:
			vals, err := gethUnpack(abi.Arguments{{Type: stringT}}, data[4:])
			if err != nil {
				t.Fatalf("decoded Error(string) but go-ethereum refuses: %v", err)
			}
			if want := renderGeth(stringT, vals[0], false); rev.Message != want {
				t.Fatalf("Error(string):\n got %q\nwant %q", rev.Message, want)
			}
		case chain.RevertPanic:
			vals, err := gethUnpack(abi.Arguments{{Type: uintT}}, data[4:])
			if err != nil {
				t.Fatalf("decoded Panic(uint256) but go-ethereum refuses: %v", err)
			}
			if code := vals[0].(*big.Int); !code.IsUint64() || code.Uint64() != rev.PanicCode {
				t.Fatalf("panic code %#x, go-ethereum reads %#x", rev.PanicCode, code)
			}
		case chain.RevertCustom:
			e, ok := ref.errors[rev.Signature]
			if !ok {
				t.Fatalf("decoded %s, which no ABI declares", rev.Signature)
			}
			vals, err := gethUnpack(e.Inputs, data[4:])
			if err != nil {
				t.Fatalf("decoded %s but go-ethereum refuses: %v", rev.Signature, err)
			}
			if len(vals) != len(rev.Args) {
				t.Fatalf("%s: %d args, go-ethereum %d", rev.Signature, len(rev.Args), len(vals))
			}
			for i, in := range e.Inputs {
				if want := renderGeth(in.Type, vals[i], false); rev.Args[i].Value != want {
					t.Fatalf("%s argument %d:\n got %s\nwant %s", rev.Signature, i, rev.Args[i].Value, want)
				}
			}
		}
		// And the converse: a canonical Error(string) is read as one.
		if len(data) >= 4 && len(data) <= MaxDataSize && [4]byte(data[:4]) == errorSelector {
			if vals, err := gethUnpack(abi.Arguments{{Type: stringT}}, data[4:]); err == nil {
				if again, err := (abi.Arguments{{Type: stringT}}).Pack(vals...); err == nil && bytes.Equal(again, data[4:]) && rev.Kind != chain.RevertError {
					t.Fatalf("canonical Error(string) read as %s: %s", rev.Kind, rev.Message)
				}
			}
		}
	})
}

func FuzzRegistryAdd(f *testing.F) {
	f.Add([]byte(kitchenABI))
	f.Add(readFile(f, "vault.abi.json"))
	f.Add(mustBundled(f, "ERC1155"))
	f.Add([]byte(`[{"type": "function", "name": "f", "inputs": [{"name": "x", "type": "uint7"}]}]`))
	f.Add([]byte("[\n  {\"type\": \"function\",\n   \"inputs\": }\n]"))
	f.Add([]byte(`[{"type":"event","name":"E","inputs":[{"name":"t","type":"tuple[2][]","indexed":true,"components":[{"name":"a","type":"bytes[]"}]}]}]`))
	f.Fuzz(func(t *testing.T, js []byte) {
		r := NewRegistry()
		err := r.Add(kitchen, "Fuzz", js)
		if err == nil {
			c := r.contract(&kitchen)
			for sel, m := range c.methods {
				if selector(m.sig) != sel {
					t.Fatalf("%s filed under %x", m.sig, sel)
				}
				for _, p := range m.params {
					if p.typ.kind != kindTuple && !strings.Contains(p.typ.canon, "(") {
						again, err := parseType(p.typ.canon, nil)
						if err != nil || again.canon != p.typ.canon {
							t.Fatalf("canonical type %s does not parse back: %v", p.typ.canon, err)
						}
					}
				}
			}
			return
		}
		var ae *ABIError
		if !errors.As(err, &ae) {
			t.Fatalf("error %v is %T, not *ABIError", err, err)
		}
		if strings.Contains(ae.Msg, "BUG") {
			t.Fatal(err)
		}
		if ae.Line < 0 || ae.Line > bytes.Count(js, []byte{'\n'})+1 || (ae.Line > 0 && ae.Column < 1) {
			t.Fatalf("position %d:%d out of the document: %v", ae.Line, ae.Column, err)
		}
	})
}
