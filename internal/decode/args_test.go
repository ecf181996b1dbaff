package decode

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

const callTestABI = `[
 {"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"who","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"function","name":"small","stateMutability":"pure","inputs":[{"name":"a","type":"uint8"},{"name":"b","type":"int64"},{"name":"ok","type":"bool"}],"outputs":[]},
 {"type":"function","name":"blob","stateMutability":"view","inputs":[{"name":"k","type":"bytes32"},{"name":"d","type":"bytes"},{"name":"s","type":"string"}],"outputs":[]},
 {"type":"function","name":"many","stateMutability":"view","inputs":[{"name":"xs","type":"uint256[]"},{"name":"pair","type":"address[2]"}],"outputs":[]},
 {"type":"function","name":"pos","stateMutability":"view","inputs":[{"name":"p","type":"tuple","components":[{"name":"owner","type":"address"},{"name":"debt","type":"int256"}]}],
  "outputs":[{"name":"p","type":"tuple","components":[{"name":"owner","type":"address"},{"name":"debt","type":"int256"}]},{"name":"tags","type":"bytes4[]"}]},
 {"type":"function","name":"over","stateMutability":"view","inputs":[{"name":"a","type":"uint256"}],"outputs":[]},
 {"type":"function","name":"over","stateMutability":"view","inputs":[{"name":"a","type":"address"}],"outputs":[]},
 {"type":"function","name":"deposit","stateMutability":"payable","inputs":[],"outputs":[]}
]`

func testABI(t testing.TB) abi.ABI {
	t.Helper()
	a, err := abi.JSON(strings.NewReader(callTestABI))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func rawArgs(args ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = json.RawMessage(a)
	}
	return out
}

func TestEncodeCall(t *testing.T) {
	a := testABI(t)
	who := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	type pos struct {
		Owner common.Address
		Debt  *big.Int
	}
	f := func(fn string, args []json.RawMessage, want []any, wantErr string) {
		t.Helper()
		m, err := FindMethod(&a, fn)
		if err == nil {
			var got []byte
			got, err = EncodeCall(m, args)
			if err == nil {
				if wantErr != "" {
					t.Fatalf("%s %s: no error, want %q", fn, args, wantErr)
				}
				// m.Name is unique, overloads included ("over0").
				exp, perr := a.Pack(m.Name, want...)
				if perr != nil {
					t.Fatalf("%s: reference pack: %v", fn, perr)
				}
				if string(got) != string(exp) {
					t.Fatalf("%s %s:\n got 0x%x\nwant 0x%x", fn, args, got, exp)
				}
				return
			}
		}
		if wantErr == "" || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s %s: error %v, want %q", fn, args, err, wantErr)
		}
	}
	f("balanceOf", rawArgs(`"0x00000000000000000000000000000000000000aa"`), []any{who}, "")
	f("balanceOf(address)", rawArgs(`"0x00000000000000000000000000000000000000AA"`), []any{who}, "")
	f("small", rawArgs(`"255"`, `"-9223372036854775808"`, `"true"`), []any{uint8(255), int64(-9223372036854775808), true}, "")
	f("small", rawArgs(`7`, `"0x10"`, `false`), []any{uint8(7), int64(16), false}, "")
	f("blob", rawArgs(`"0x`+strings.Repeat("ab", 32)+`"`, `"0x0102"`, `"<script>alert(1)</script>"`),
		[]any{[32]byte(common.FromHex(strings.Repeat("ab", 32))), []byte{1, 2}, "<script>alert(1)</script>"}, "")
	f("many", rawArgs(`"[1, \"2\", \"0xff\"]"`, `["0x00000000000000000000000000000000000000aa","0x00000000000000000000000000000000000000aa"]`),
		[]any{[]*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(255)}, [2]common.Address{who, who}}, "")
	f("pos", rawArgs(`{"owner":"0x00000000000000000000000000000000000000aa","debt":"-5"}`), []any{pos{Owner: who, Debt: big.NewInt(-5)}}, "")
	f("pos", rawArgs(`"[\"0x00000000000000000000000000000000000000aa\", \"12\"]"`), []any{pos{Owner: who, Debt: big.NewInt(12)}}, "")
	f("over(address)", rawArgs(`"0x00000000000000000000000000000000000000aa"`), []any{who}, "")

	// Mistakes say what is wrong.
	f("balanceOf", rawArgs(`"0x1234"`), nil, "is not an address")
	f("balanceOf", rawArgs(`"0x00000000000000000000000000000000000000Aa"`), nil, "wrong EIP-55 checksum")
	f("balanceOf", rawArgs(), nil, "takes 1 arguments, got 0")
	f("small", rawArgs(`"256"`, `"0"`, `"true"`), nil, "out of range for uint8")
	f("small", rawArgs(`"-1"`, `"0"`, `"true"`), nil, "out of range for uint8")
	f("small", rawArgs(`"1"`, `"9223372036854775808"`, `"true"`), nil, "out of range for int64")
	f("small", rawArgs(`"1.5"`, `"0"`, `"true"`), nil, "not a whole number")
	f("small", rawArgs(`"1"`, `"0"`, `"yes"`), nil, "not true or false")
	f("blob", rawArgs(`"0xabcd"`, `"0x"`, `""`), nil, "want exactly 32 bytes")
	f("blob", rawArgs(`"0x`+strings.Repeat("ab", 32)+`"`, `"0x123"`, `""`), nil, "odd number of hex digits")
	f("many", rawArgs(`"1,2"`, `[]`), nil, "want a JSON array")
	f("many", rawArgs(`[]`, `["0x00000000000000000000000000000000000000aa"]`), nil, "want an array of 2 values")
	f("pos", rawArgs(`{"owner":"0x00000000000000000000000000000000000000aa"}`), nil, `field "debt" is missing`)
	f("over", rawArgs(`"1"`), nil, "is overloaded: name one of")
	f("nope", rawArgs(), nil, `no function "nope"`)
}

func TestUnpackOutputs(t *testing.T) {
	a := testABI(t)
	m := a.Methods["pos"]
	who := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	type pos struct {
		Owner common.Address
		Debt  *big.Int
	}
	data, err := m.Outputs.Pack(pos{Owner: who, Debt: big.NewInt(-7)}, [][4]byte{{0xde, 0xad, 0xbe, 0xef}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeOutputs(m, data)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(out)
	want := `[{"name":"p","type":"(address,int256)","value":[{"name":"owner","type":"address","value":"` + who.Hex() + `"},{"name":"debt","type":"int256","value":"-7"}]},{"name":"tags","type":"bytes4[]","value":["0xdeadbeef"]}]`
	if string(got) != want {
		t.Fatalf("outputs\n got %s\nwant %s", got, want)
	}
	if _, err := DecodeOutputs(m, data[:40]); err == nil || !strings.Contains(err.Error(), "cannot decode what pos") {
		t.Fatalf("short data: %v", err)
	}
}

// FuzzPackArgs feeds arbitrary form input to the argument parser: it must
// return an error or an encoding, never panic.
func FuzzEncodeCall(f *testing.F) {
	a := testABI(f)
	for _, s := range []string{`"0x00000000000000000000000000000000000000aa"`, `"255"`, `[1,2]`, `{"owner":"0x0","debt":"1"}`, `"[[[[1]]]]"`, `"-0x"`, `null`, `"0x"`} {
		f.Add("pos", s)
		f.Add("many", s)
		f.Add("small", s)
	}
	f.Fuzz(func(t *testing.T, fn, arg string) {
		m, err := FindMethod(&a, fn)
		if err != nil {
			return
		}
		args := make([]json.RawMessage, len(m.Inputs))
		for i := range args {
			args[i] = json.RawMessage(arg)
		}
		if b, err := EncodeCall(m, args); err == nil && len(b) < 4 {
			t.Fatalf("encoded call of %d bytes", len(b))
		}
	})
}

// roundTripTypes are the argument types the round-trip fuzz target parses
// every input as.
var roundTripTypes = []struct {
	typ   string
	comps []abi.ArgumentMarshaling
}{
	{"uint8", nil}, {"int64", nil}, {"uint256", nil}, {"int256", nil}, {"uint80", nil},
	{"address", nil}, {"bool", nil}, {"string", nil}, {"bytes", nil}, {"bytes32", nil}, {"bytes4", nil},
	{"uint256[]", nil}, {"address[2]", nil}, {"bytes4[]", nil}, {"string[]", nil},
	{"tuple", []abi.ArgumentMarshaling{{Name: "owner", Type: "address"}, {Name: "debt", Type: "int256"}}},
	{"tuple[]", []abi.ArgumentMarshaling{{Name: "tag", Type: "bytes4"}, {Name: "ok", Type: "bool"}}},
}

// asArg turns a decoded output value back into the JSON an argument is
// written as: a tuple, which decodes to a list of named outputs, becomes
// an object keyed by field name.
func asArg(v any) any {
	switch v := v.(type) {
	case []Output:
		obj := make(map[string]any, len(v))
		for _, o := range v {
			obj[o.Name] = asArg(o.Value)
		}
		return obj
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = asArg(e)
		}
		return out
	}
	return v
}

// FuzzParseArgRoundTrip checks the argument parser against its own
// renderer: whatever input parses as a type encodes to data that decodes,
// renders and parses back to the same encoding (and the same text).
func FuzzParseArgRoundTrip(f *testing.F) {
	for _, s := range []string{`"0x00000000000000000000000000000000000000aa"`, `"255"`, `"-0x80"`, `[1,"2","0xff"]`,
		`{"owner":"0x00000000000000000000000000000000000000AA","debt":"-5"}`, `"[[1]]"`, `"0x"`, `"0xdeadbeef"`, `true`, `"x"`,
		`[{"tag":"0x01020304","ok":"1"}]`, `"0x` + strings.Repeat("ab", 32) + `"`, `"héllo\u0000"`, `7`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, rt := range roundTripTypes {
			typ, err := abi.NewType(rt.typ, "", rt.comps)
			if err != nil {
				t.Fatal(err)
			}
			args := abi.Arguments{{Name: "v", Type: typ}}
			v, err := ParseArg(typ, json.RawMessage(raw))
			if err != nil {
				if err.Error() == "" {
					t.Fatalf("%s %q: empty error", rt.typ, raw)
				}
				continue
			}
			enc, err := args.Pack(v)
			if err != nil {
				t.Fatalf("%s %q: parsed to %v, which does not encode: %v", rt.typ, raw, v, err)
			}
			m := abi.NewMethod("f", "f", abi.Function, "view", false, false, nil, args)
			outs, err := DecodeOutputs(m, enc)
			if err != nil {
				t.Fatalf("%s %q: encoding 0x%x does not decode: %v", rt.typ, raw, enc, err)
			}
			again, err := json.Marshal(asArg(outs[0].Value))
			if err != nil {
				t.Fatal(err)
			}
			v2, err := ParseArg(typ, again)
			if err != nil {
				t.Fatalf("%s %q: rendered as %s, which does not parse: %v", rt.typ, raw, again, err)
			}
			enc2, err := args.Pack(v2)
			if err != nil || string(enc2) != string(enc) {
				t.Fatalf("%s %q: 0x%x, after rendering as %s: 0x%x (%v)", rt.typ, raw, enc, again, enc2, err)
			}
			if txt, err := ParseArgText(typ, outs[0].Text()); typ.T != abi.TupleTy && (typ.T != abi.SliceTy || typ.Elem.T != abi.TupleTy) {
				if enc3, perr := args.Pack(txt); err != nil || perr != nil || string(enc3) != string(enc) {
					t.Fatalf("%s %q: text %q parses to 0x%x (%v %v), want 0x%x", rt.typ, raw, outs[0].Text(), enc3, err, perr, enc)
				}
			}
		}
	})
}

func TestMethodFromSignature(t *testing.T) {
	f := func(sig, returns, wantSig, wantOuts, wantErr string) {
		t.Helper()
		m, err := MethodFromSignature(sig, returns)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s returns %s: error %v, want %q", sig, returns, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s returns %s: %v", sig, returns, err)
		}
		var outs []string
		for _, o := range m.Outputs {
			outs = append(outs, strings.TrimSpace(o.Type.String()+" "+o.Name))
		}
		if m.Sig != wantSig || strings.Join(outs, ",") != wantOuts {
			t.Errorf("%s returns %s: %s returns %v, want %s returns %s", sig, returns, m.Sig, outs, wantSig, wantOuts)
		}
	}
	f("totalSupply()", "", "totalSupply()", "uint256", "")
	f("getRoundData(uint80)", "(uint80 roundId, int256 answer)", "getRoundData(uint80)", "uint80 roundId,int256 answer", "")
	f("paused()", "(bool)", "paused()", "bool", "")
	f("balanceOf(address who)", "(uint256)", "balanceOf(address)", "uint256", "")
	f("paused", "", "", "", "is not a signature")
	f("f(strin)", "", "", "", `type "strin"`)
	f("f(,)", "", "", "", "empty type")
}

func TestFunctionName(t *testing.T) {
	vault := readFile(t, "vault.abi.json")
	a := gethABI(t, vault)
	for name, m := range a.Methods {
		if got, ok := FunctionName(vault, append(m.ID, 1, 2)); !ok || got != m.RawName {
			t.Errorf("%s: %q %v, want %q", name, got, ok, m.RawName)
		}
	}
	for _, c := range []struct{ abi, input string }{{string(vault), "0x12345678"}, {string(vault), "0x12"}, {"[", "0x12345678"}, {"", "0x12345678"}} {
		if got, ok := FunctionName([]byte(c.abi), common.FromHex(c.input)); ok {
			t.Errorf("%.20s %s: %q, want none", c.abi, c.input, got)
		}
	}
}
