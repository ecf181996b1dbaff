package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	alice  = common.HexToAddress("0x8ba1f109551bD432803012645Ac136ddd64DBA72")
	bob    = common.HexToAddress("0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B")
	token  = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	vault  = common.HexToAddress("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
	router = common.HexToAddress("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
)

// vaultPosition mirrors the Vault.Position struct for go-ethereum's packer.
type vaultPosition struct {
	Asset common.Address
	Size  *big.Int
	Long  bool
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gethABI parses an ABI with go-ethereum, which serves as the reference
// encoder in these tests.
func gethABI(t testing.TB, js []byte) abi.ABI {
	t.Helper()
	a, err := abi.JSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func pack(t testing.TB, a abi.ABI, method string, args ...any) []byte {
	t.Helper()
	b, err := a.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// packError encodes a custom error the way solc does: selector + arguments.
func packError(t testing.TB, a abi.ABI, name string, args ...any) []byte {
	t.Helper()
	e, ok := a.Errors[name]
	if !ok {
		t.Fatalf("no error %s", name)
	}
	b, err := e.Inputs.Pack(args...)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{}, e.ID[:4]...), b...)
}

func addrTopic(a common.Address) common.Hash { return common.BytesToHash(a.Bytes()) }

func uintTopic(v int64) common.Hash { return common.BigToHash(big.NewInt(v)) }

func eventID(sig string) common.Hash { return crypto.Keccak256Hash([]byte(sig)) }

func erc20ABI(t testing.TB) abi.ABI { return gethABI(t, mustBundled(t, "ERC20")) }

func mustBundled(t testing.TB, name string) []byte {
	t.Helper()
	b, err := bundledFiles.ReadFile("bundled/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestRegistry registers the vault and the router of testdata.
func newTestRegistry(t testing.TB) *Registry {
	t.Helper()
	r := NewRegistry()
	if err := r.Add(vault, "Vault", readFile(t, "vault.abi.json")); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(router, "Router", readFile(t, "router.abi.json")); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkGolden compares got, as indented JSON, with testdata/golden/name.json.
func checkGolden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", name, b, want)
	}
}

func TestDecodeGolden(t *testing.T) {
	r := newTestRegistry(t)
	erc20 := erc20ABI(t)
	vaultABI := gethABI(t, readFile(t, "vault.abi.json"))

	tests := []struct {
		name   string
		decode func(t *testing.T) any
		check  func(t *testing.T, got any)
	}{
		{
			name: "erc20_transfer_call",
			decode: func(t *testing.T) any {
				call, err := r.DecodeCall(&token, pack(t, erc20, "transfer", bob, big.NewInt(1_500_000)))
				if err != nil {
					t.Fatal(err)
				}
				return call
			},
			check: func(t *testing.T, got any) {
				c := got.(*chain.Call)
				if c.Signature != "transfer(address,uint256)" || c.Args[0].Value != bob.Hex() || c.Args[1].Value != "1500000" {
					t.Errorf("call = %+v", c)
				}
			},
		},
		{
			name: "vault_open_position_call",
			decode: func(t *testing.T) any {
				in := pack(t, vaultABI, "openPosition",
					vaultPosition{Asset: token, Size: new(big.Int).Lsh(big.NewInt(1), 200), Long: true},
					"hedge \"Q3\"\n", [2][32]byte{{0xaa}, {0xbb}})
				call, err := r.DecodeCall(&vault, in)
				if err != nil {
					t.Fatal(err)
				}
				return call
			},
		},
		{
			name: "erc20_transfer_event",
			decode: func(t *testing.T) any {
				l := chain.Log{
					Address: token,
					Topics:  []common.Hash{eventID("Transfer(address,address,uint256)"), addrTopic(alice), addrTopic(bob)},
					Data:    common.BigToHash(big.NewInt(42)).Bytes(),
				}
				r.DecodeLog(&l)
				return l.Event
			},
			check: func(t *testing.T, got any) {
				e := got.(*chain.Event)
				if e.Args[2].Name != "value" || e.Args[2].Value != "42" {
					t.Errorf("event = %+v", e)
				}
			},
		},
		{
			name: "erc721_transfer_event",
			decode: func(t *testing.T) any {
				l := chain.Log{
					Address: token,
					Topics:  []common.Hash{eventID("Transfer(address,address,uint256)"), addrTopic(alice), addrTopic(bob), uintTopic(7)},
				}
				r.DecodeLog(&l)
				return l.Event
			},
			check: func(t *testing.T, got any) {
				e := got.(*chain.Event)
				if e.Args[2].Name != "tokenId" || e.Args[2].Value != "7" {
					t.Errorf("event = %+v", e)
				}
			},
		},
		{
			name: "vault_borrowed_event_hashed_string",
			decode: func(t *testing.T) any {
				l := chain.Log{
					Address: vault,
					Topics:  []common.Hash{eventID("Borrowed(address,uint256,string)"), addrTopic(alice), crypto.Keccak256Hash([]byte("margin"))},
					Data:    common.BigToHash(big.NewInt(250)).Bytes(),
				}
				r.DecodeLog(&l)
				return l.Event
			},
		},
		{
			name: "revert_error_string",
			decode: func(t *testing.T) any {
				data := append(selectorBytes("Error(string)"), mustPackArgs(t, "string", "ERC20: transfer amount exceeds balance")...)
				return r.DecodeRevert(&token, data)
			},
			check: func(t *testing.T, got any) {
				if m := got.(*chain.Revert).Message; m != "ERC20: transfer amount exceeds balance" {
					t.Errorf("message = %q", m)
				}
			},
		},
		{
			name: "revert_custom_from_callee",
			decode: func(t *testing.T) any {
				data := packError(t, vaultABI, "PositionRejected", alice, big.NewInt(5), [32]byte{'L', 'T', 'V'},
					vaultPosition{Asset: token, Size: big.NewInt(1e18), Long: false})
				// The router called the vault, which reverted: the error
				// surfaces at the router, whose ABI does not declare it.
				return r.DecodeRevert(&router, data)
			},
			check: func(t *testing.T, got any) {
				rev := got.(*chain.Revert)
				if rev.Kind != chain.RevertCustom || rev.Contract != "Vault" || rev.Args[0].Value != alice.Hex() {
					t.Errorf("revert = %+v", rev)
				}
			},
		},
		{
			name: "revert_custom_message",
			decode: func(t *testing.T) any {
				return r.DecodeRevert(&vault, packError(t, vaultABI, "InsufficientCollateral", alice, big.NewInt(5), big.NewInt(3)))
			},
			check: func(t *testing.T, got any) {
				want := "InsufficientCollateral(account=" + alice.Hex() + ", requested=5, maxBorrow=3)"
				if m := got.(*chain.Revert).Message; m != want {
					t.Errorf("message = %q, want %q", m, want)
				}
			},
		},
		{
			name: "revert_bundled_oz_error",
			decode: func(t *testing.T) any {
				return r.DecodeRevert(&token, packError(t, erc20, "ERC20InsufficientBalance", alice, big.NewInt(10), big.NewInt(11)))
			},
		},
		{
			name: "revert_unknown_selector",
			decode: func(t *testing.T) any {
				return r.DecodeRevert(&token, []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3})
			},
			check: func(t *testing.T, got any) {
				if k := got.(*chain.Revert).Kind; k != chain.RevertUnknown {
					t.Errorf("kind = %q", k)
				}
			},
		},
		{
			name: "revert_empty",
			decode: func(t *testing.T) any {
				return r.DecodeRevert(&token, nil)
			},
			check: func(t *testing.T, got any) {
				if k := got.(*chain.Revert).Kind; k != chain.RevertEmpty {
					t.Errorf("kind = %q", k)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.decode(t)
			if got == nil || (func() bool { b, _ := json.Marshal(got); return string(b) == "null" })() {
				t.Fatal("decoded nothing")
			}
			if tt.check != nil {
				tt.check(t, got)
			}
			checkGolden(t, tt.name, got)
		})
	}
}

func selectorBytes(sig string) []byte { return crypto.Keccak256([]byte(sig))[:4] }

// mustPackArgs packs a single value of the given type with go-ethereum.
func mustPackArgs(t testing.TB, typ string, v any) []byte {
	t.Helper()
	ty, err := abi.NewType(typ, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := abi.Arguments{{Type: ty}}.Pack(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRevertPanicCodes(t *testing.T) {
	r := NewRegistry()
	tests := []struct {
		code uint64
		want string
	}{
		{0x00, "Panic(0x00): generic compiler-inserted panic"},
		{0x01, "Panic(0x01): assertion failed"},
		{0x11, "Panic(0x11): arithmetic overflow or underflow"},
		{0x12, "Panic(0x12): division or modulo by zero"},
		{0x21, "Panic(0x21): invalid enum conversion"},
		{0x22, "Panic(0x22): bad storage byte array encoding"},
		{0x31, "Panic(0x31): pop on empty array"},
		{0x32, "Panic(0x32): array index out of bounds"},
		{0x41, "Panic(0x41): out of memory or too large allocation"},
		{0x51, "Panic(0x51): call to zero-initialised function"},
		{0x99, "Panic(0x99): unknown panic code"},
	}
	for _, tt := range tests {
		data := append(selectorBytes("Panic(uint256)"), mustPackArgs(t, "uint256", new(big.Int).SetUint64(tt.code))...)
		got := r.DecodeRevert(nil, data)
		want := &chain.Revert{Kind: chain.RevertPanic, Name: "Panic", Signature: "Panic(uint256)", Message: tt.want, PanicCode: tt.code}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("code 0x%02x: got %+v, want %+v", tt.code, got, want)
		}
	}
}

func TestDecodeRevertMalformed(t *testing.T) {
	r := NewRegistry()
	huge := append(selectorBytes("Panic(uint256)"), bytes.Repeat([]byte{0xff}, 32)...)
	tests := []struct {
		name string
		data []byte
		want string // substring of the message
	}{
		{"short", []byte{0x08, 0xc3}, "shorter than a selector"},
		{"error truncated", append(selectorBytes("Error(string)"), 0, 0, 1), "malformed Error(string)"},
		{"error length past end", append(selectorBytes("Error(string)"), mustPackArgs(t, "uint256", big.NewInt(32))[:32]...), "malformed Error(string)"},
		{"panic code too big", huge, "malformed Panic(uint256)"},
		{"too large", make([]byte, MaxDataSize+1), "too large"},
	}
	for _, tt := range tests {
		got := r.DecodeRevert(nil, tt.data)
		if got.Kind != chain.RevertUnknown || !strings.Contains(got.Message, tt.want) {
			t.Errorf("%s: got %+v, want unknown with %q", tt.name, got, tt.want)
		}
	}
}

func TestDecodeRevertSanitisesStrings(t *testing.T) {
	r := NewRegistry()
	f := func(raw, want string) {
		t.Helper()
		data := append(selectorBytes("Error(string)"), mustPackArgs(t, "string", raw)...)
		got := r.DecodeRevert(nil, data)
		if got.Kind != chain.RevertError || got.Message != want {
			t.Errorf("Error(%q): got %+v, want message %q", raw, got, want)
		}
	}
	f("plain", "plain")
	f("bad \xff\xfe utf8", "bad \uFFFD utf8")
	f("keeps\ncontrol\x00chars", "keeps\ncontrol\x00chars")
	long := strings.Repeat("é", MaxValueBytes) // 2 bytes a rune: cut on a rune boundary
	f(long, strings.Repeat("é", MaxValueBytes/2)+"…")
}

func TestDecodeCallErrors(t *testing.T) {
	r := newTestRegistry(t)
	erc20 := erc20ABI(t)
	good := pack(t, erc20, "transfer", bob, big.NewInt(1))
	dirty := bytes.Clone(good)
	dirty[4] = 1 // a high-order byte of the address word
	tests := []struct {
		name  string
		to    *common.Address
		input []byte
		want  error // nil: any decoding error
	}{
		{"unknown selector", &token, []byte{1, 2, 3, 4}, ErrUnknown},
		{"no selector", &token, []byte{1, 2}, ErrUnknown},
		{"creation", nil, good, ErrUnknown},
		{"too large", &token, make([]byte, MaxDataSize+1), ErrTooLarge},
		{"truncated", &token, good[:30], nil},
		{"dirty address", &token, dirty, nil},
	}
	for _, tt := range tests {
		call, err := r.DecodeCall(tt.to, tt.input)
		if err == nil || call != nil {
			t.Errorf("%s: got %+v, %v; want an error", tt.name, call, err)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v is not %v", tt.name, err, tt.want)
		}
		if tt.want == nil && errors.Is(err, ErrUnknown) {
			t.Errorf("%s: error %v should be a decoding error", tt.name, err)
		}
	}
}

func TestDecodeTx(t *testing.T) {
	r := newTestRegistry(t)
	tx := testTx(t, r)
	tx.Status = 0
	vaultABI := gethABI(t, readFile(t, "vault.abi.json"))
	tx.RevertData = packError(t, vaultABI, "InsufficientCollateral", alice, big.NewInt(5), big.NewInt(3))
	tx.Logs = append(tx.Logs, chain.Log{Address: token, Topics: []common.Hash{{0x01}}})
	r.DecodeTx(tx)
	if tx.Call == nil || tx.Call.Method != "transfer" {
		t.Errorf("call = %+v", tx.Call)
	}
	for i, l := range tx.Logs[:3] {
		if l.Event == nil {
			t.Errorf("log %d not decoded", i)
		}
	}
	if tx.Logs[3].Event != nil {
		t.Errorf("unknown log decoded as %+v", tx.Logs[3].Event)
	}
	if tx.Revert == nil || tx.Revert.Name != "InsufficientCollateral" || tx.Revert.Contract != "Vault" {
		t.Errorf("revert = %+v", tx.Revert)
	}

	tx.Status = 1
	tx.Input = []byte{0xde, 0xad, 0xbe, 0xef}
	r.DecodeTx(tx)
	if tx.Call != nil || tx.Revert != nil {
		t.Errorf("after re-decoding a successful tx with unknown input: call %+v, revert %+v", tx.Call, tx.Revert)
	}
}

// testTx returns a successful ERC-20 transfer with three logs.
func testTx(t testing.TB, r *Registry) *chain.Tx {
	erc20 := erc20ABI(t)
	transfer := eventID("Transfer(address,address,uint256)")
	return &chain.Tx{
		To:     &token,
		From:   alice,
		Input:  pack(t, erc20, "transfer", bob, big.NewInt(1e18)),
		Status: 1,
		Logs: []chain.Log{
			{Address: token, Topics: []common.Hash{transfer, addrTopic(alice), addrTopic(bob)}, Data: common.BigToHash(big.NewInt(1e18)).Bytes()},
			{Address: token, Topics: []common.Hash{eventID("Approval(address,address,uint256)"), addrTopic(alice), addrTopic(router)}, Data: common.BigToHash(big.NewInt(0)).Bytes()},
			{Address: router, Topics: []common.Hash{eventID("Routed(address,uint256)"), addrTopic(vault)}, Data: common.BigToHash(big.NewInt(1e18)).Bytes()},
		},
	}
}

func TestRegistryNameRemove(t *testing.T) {
	r := newTestRegistry(t)
	if name, ok := r.Name(vault); !ok || name != "Vault" {
		t.Errorf("Name(vault) = %q, %v", name, ok)
	}
	vaultABI := gethABI(t, readFile(t, "vault.abi.json"))
	data := packError(t, vaultABI, "InsufficientCollateral", alice, big.NewInt(5), big.NewInt(3))
	if got := r.DecodeRevert(&router, data); got.Kind != chain.RevertCustom {
		t.Fatalf("before Remove: %+v", got)
	}
	r.Remove(vault)
	if _, ok := r.Name(vault); ok {
		t.Error("vault still named after Remove")
	}
	if got := r.DecodeRevert(&router, data); got.Kind != chain.RevertUnknown {
		t.Errorf("after Remove, the vault's error still decodes: %+v", got)
	}
	// Replacing an ABI drops the old one's errors.
	if err := r.Add(vault, "Vault", readFile(t, "vault.abi.json")); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(vault, "Empty", []byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	if got := r.DecodeRevert(&router, data); got.Kind != chain.RevertUnknown {
		t.Errorf("after replacing the ABI, the old error still decodes: %+v", got)
	}
}
