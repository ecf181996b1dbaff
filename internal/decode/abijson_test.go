package decode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestAddMalformedABI(t *testing.T) {
	tests := []struct {
		name string
		abi  string
	}{
		{"syntax", "[\n  {\"type\": \"function\", \"name\": \"f\",\n   \"inputs\": }\n]"},
		{"truncated", `[{"type": "function", "name": "f"`},
		{"empty", ``},
		{"object", `  {"abi": []}`},
		{"trailing data", "[]\n]"},
		{"wrong kind", "[\n {\"type\": \"event\", \"name\": 5}\n]"},
		{"wrong kind nested", "[{\"type\": \"event\", \"name\": \"E\", \"inputs\": [{\"name\": \"a\", \"type\": \"uint256\", \"indexed\": \"yes\"}]}]"},
		{"unknown type uint7", "[\n  {\"type\": \"function\", \"name\": \"ok\", \"inputs\": []},\n  {\"type\": \"function\", \"name\": \"f\", \"inputs\": [{\"name\": \"x\", \"type\": \"uint7\"}]}\n]"},
		{"unknown type suffix", `[{"type": "error", "name": "E", "inputs": [{"name": "", "type": "uint256abc"}]}]`},
		{"bytes33", `[{"type": "function", "name": "f", "inputs": [{"name": "b", "type": "bytes33"}]}]`},
		{"fixed point", `[{"type": "function", "name": "f", "inputs": [{"name": "b", "type": "fixed128x18"}]}]`},
		{"zero length array", `[{"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint256[0]"}]}]`},
		{"unbalanced brackets", `[{"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint256]["}]}]`},
		{"huge static array", `[{"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint256[100000][100000]"}]}]`},
		{"tuple without components", `[{"type": "function", "name": "f", "inputs": [{"name": "t", "type": "tuple"}]}]`},
		{"bad tuple component", `[{"type": "error", "name": "E", "inputs": [{"name": "t", "type": "tuple[]", "components": [{"name": "a", "type": "address"}, {"name": "b", "type": "int3"}]}]}]`},
		{"components on non-tuple", `[{"type": "function", "name": "f", "inputs": [{"name": "a", "type": "address", "components": [{"name": "x", "type": "bool"}]}]}]`},
		{"missing type", `[{"type": "function", "name": "f", "inputs": [{"name": "a"}]}]`},
		{"missing name", "[\n\t{\"type\": \"event\", \"inputs\": []}\n]"},
		{"bad name", `[{"type": "function", "name": "transfer(address)", "inputs": []}]`},
		{"unknown fragment", `[{"type": "modifier", "name": "onlyOwner"}]`},
		{"indexed function input", `[{"type": "function", "name": "f", "inputs": [{"name": "a", "type": "address", "indexed": true}]}]`},
		{"too many indexed", `[{"type": "event", "name": "E", "inputs": [{"name": "a", "type": "uint8", "indexed": true}, {"name": "b", "type": "uint8", "indexed": true}, {"name": "c", "type": "uint8", "indexed": true}, {"name": "d", "type": "uint8", "indexed": true}]}]`},
		{"bad output", `[{"type": "function", "name": "f", "inputs": [], "outputs": [{"name": "", "type": "strin"}]}]`},
		{"bad constructor", `[{"type": "constructor", "inputs": [{"name": "a", "type": "address payable"}]}]`},
	}
	var got strings.Builder
	for _, tt := range tests {
		err := NewRegistry().Add(common.Address{1}, "Bad", []byte(tt.abi))
		var ae *ABIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: error %v (%T) is not an *ABIError", tt.name, err, err)
			continue
		}
		fmt.Fprintf(&got, "%s: %v\n", tt.name, err)
	}
	path := filepath.Join("testdata", "abi_errors.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("ABI errors differ from %s:\n got:\n%s\nwant:\n%s", path, got.String(), want)
	}
}

func TestABIErrorPosition(t *testing.T) {
	// The '}' that makes this ABI invalid is on line 3, column 14.
	js := "[\n  {\"type\": \"function\", \"name\": \"f\",\n   \"inputs\": }\n]"
	err := NewRegistry().Add(common.Address{}, "X", []byte(js))
	var ae *ABIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v", err)
	}
	if ae.Line != 3 || ae.Column != 14 {
		t.Errorf("position %d:%d, want 3:14", ae.Line, ae.Column)
	}
	line := strings.Split(js, "\n")[ae.Line-1]
	if line[ae.Column-1] != '}' {
		t.Errorf("column %d points at %q", ae.Column, line[ae.Column-1])
	}
}

func TestParseType(t *testing.T) {
	tuple := []component{{Name: "a", Type: "address"}, {Type: "uint256[]"}, {Name: "c", Type: "tuple", Components: []component{{Name: "x", Type: "bool"}}}}
	tests := []struct {
		typ     string
		comps   []component
		canon   string
		dynamic bool
		words   int
	}{
		{"uint8", nil, "uint8", false, 1},
		{"uint", nil, "uint256", false, 1},
		{"int", nil, "int256", false, 1},
		{"int24", nil, "int24", false, 1},
		{"bytes1", nil, "bytes1", false, 1},
		{"bytes", nil, "bytes", true, 1},
		{"string[]", nil, "string[]", true, 1},
		{"address[3][2]", nil, "address[3][2]", false, 6},
		{"uint8[2][]", nil, "uint8[2][]", true, 1},
		{"string[2]", nil, "string[2]", true, 1},
		{"function", nil, "function", false, 1},
		{"tuple", tuple[2].Components, "(bool)", false, 1},
		{"tuple[2]", tuple[2:], "((bool))[2]", false, 2},
		{"tuple", tuple, "(address,uint256[],(bool))", true, 1},
	}
	for _, tt := range tests {
		got, err := parseType(tt.typ, tt.comps)
		if err != nil {
			t.Errorf("%s: %v", tt.typ, err)
			continue
		}
		if got.canon != tt.canon || got.dynamic != tt.dynamic || got.words != tt.words {
			t.Errorf("%s: got %s dynamic=%v words=%d, want %s %v %d", tt.typ, got.canon, got.dynamic, got.words, tt.canon, tt.dynamic, tt.words)
		}
	}
	for _, bad := range []string{"", "uint0", "uint264", "uint07", "int+8", "bytes0", "bytes032", "address[", "address]", "address[-1]", "address[01]", "[]", "Uint256", "tuple[]x", "uint256[1e3]"} {
		if got, err := parseType(bad, nil); err == nil {
			t.Errorf("%q accepted as %s", bad, got.canon)
		}
	}
	deep := "uint8" + strings.Repeat("[]", maxTypeDepth+1)
	if _, err := parseType(deep, nil); err == nil {
		t.Errorf("type nested %d deep accepted", maxTypeDepth+1)
	}
}

// TestSignaturesMatchGoEthereum checks the canonical signatures, selectors
// and topics against go-ethereum's own parser on ABIs both accept.
func TestSignaturesMatchGoEthereum(t *testing.T) {
	files := map[string][]byte{"vault": readFile(t, "vault.abi.json"), "router": readFile(t, "router.abi.json")}
	for _, name := range bundledOrder {
		files[name] = mustBundled(t, name)
	}
	for name, js := range files {
		mine, err := parseABI(name, js)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ref := gethABI(t, js)
		n := 0
		for _, m := range ref.Methods {
			f := mine.methods[[4]byte(m.ID)]
			if f == nil || f.sig != m.Sig {
				t.Errorf("%s: method %s: got %+v", name, m.Sig, f)
			}
			n++
		}
		for _, e := range ref.Events {
			fs := mine.events[e.ID]
			if len(fs) != 1 || fs[0].sig != e.Sig {
				t.Errorf("%s: event %s: got %+v", name, e.Sig, fs)
			}
			n++
		}
		for _, e := range ref.Errors {
			f := mine.errors[[4]byte(e.ID[:4])]
			if f == nil || f.sig != e.Sig {
				t.Errorf("%s: error %s: got %+v", name, e.Sig, f)
			}
			n++
		}
		if total := len(mine.methods) + len(mine.errors) + len(mine.events); total != n {
			t.Errorf("%s: %d fragments, go-ethereum has %d", name, total, n)
		}
	}
}

func TestBundledTable(t *testing.T) {
	entries, err := bundledFiles.ReadDir("bundled")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(bundledOrder) {
		t.Errorf("%d bundled files, %d in bundledOrder", len(entries), len(bundledOrder))
	}
	// Across standards, a selector may be shared only by the same signature,
	// and events sharing topic0 must differ in indexed count or agree in types.
	methods := map[[4]byte]string{}
	errs := map[[4]byte]string{}
	type eventKey struct {
		id      common.Hash
		indexed int
	}
	events := map[eventKey]string{}
	for _, name := range bundledOrder {
		c, err := parseABI(name, mustBundled(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for sel, f := range c.methods {
			if prev, ok := methods[sel]; ok {
				t.Errorf("%s: method %s collides with %s", name, f.sig, prev)
			}
			methods[sel] = name + "." + f.sig
		}
		for sel, f := range c.errors {
			if prev, ok := errs[sel]; ok {
				t.Errorf("%s: error %s collides with %s", name, f.sig, prev)
			}
			errs[sel] = name + "." + f.sig
		}
		for id, fs := range c.events {
			for _, f := range fs {
				k := eventKey{id, f.indexed}
				if prev, ok := events[k]; ok && !strings.HasSuffix(prev, "."+f.sig) {
					t.Errorf("%s: event %s collides with %s", name, f.sig, prev)
				}
				events[k] = name + "." + f.sig
			}
		}
	}
	// The brief's must-haves are present.
	for _, sig := range []string{"Transfer(address,address,uint256)", "Approval(address,address,uint256)", "ApprovalForAll(address,address,bool)",
		"TransferSingle(address,address,address,uint256,uint256)", "TransferBatch(address,address,address,uint256[],uint256[])",
		"OwnershipTransferred(address,address)", "Paused(address)", "Unpaused(address)", "RoleGranted(bytes32,address,address)",
		"RoleRevoked(bytes32,address,address)", "RoleAdminChanged(bytes32,bytes32,bytes32)", "AnswerUpdated(int256,uint256,uint256)",
		"NewRound(uint256,address,uint256)", "Upgraded(address)", "AdminChanged(address,address)", "BeaconUpgraded(address)",
		"Deposit(address,uint256)", "Withdrawal(address,uint256)"} {
		if bundledABI().events[eventID(sig)] == nil {
			t.Errorf("bundled table lacks event %s", sig)
		}
	}
	for _, sig := range []string{"ERC20InsufficientBalance(address,uint256,uint256)", "ERC20InsufficientAllowance(address,uint256,uint256)",
		"ERC20InvalidSender(address)", "ERC20InvalidReceiver(address)", "OwnableUnauthorizedAccount(address)",
		"AccessControlUnauthorizedAccount(address,bytes32)", "EnforcedPause()", "ExpectedPause()", "ReentrancyGuardReentrantCall()"} {
		if bundledABI().errors[selector(sig)] == nil {
			t.Errorf("bundled table lacks error %s", sig)
		}
	}
}
