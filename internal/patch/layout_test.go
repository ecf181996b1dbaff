package patch_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/patch"
)

// layoutOf writes a solc storageLayout of variables "label:slot:offset:type".
func layoutOf(vars ...string) []byte {
	type entry struct {
		Label  string `json:"label"`
		Offset int    `json:"offset"`
		Slot   string `json:"slot"`
		Type   string `json:"type"`
	}
	types := map[string]map[string]string{
		"t_uint256": {"encoding": "inplace", "label": "uint256", "numberOfBytes": "32"},
		"t_address": {"encoding": "inplace", "label": "address", "numberOfBytes": "20"},
		"t_bool":    {"encoding": "inplace", "label": "bool", "numberOfBytes": "1"},
		"t_mapping": {"encoding": "mapping", "label": "mapping(address => uint256)", "numberOfBytes": "32"},
	}
	var st []entry
	for _, v := range vars {
		p := strings.Split(v, ":")
		off := 0
		if p[2] != "0" {
			off = int(p[2][0] - '0')
		}
		st = append(st, entry{Label: p[0], Slot: p[1], Offset: off, Type: "t_" + p[3]})
	}
	b, _ := json.Marshal(map[string]any{"storage": st, "types": types})
	return b
}

func TestCompareLayouts(t *testing.T) {
	old := layoutOf("owner:0:0:address", "balanceOf:1:0:mapping", "total:2:0:uint256")
	tests := []struct {
		name string
		new  []byte
		want []string
	}{
		{"same", old, nil},
		{"appended and renamed", layoutOf("admin:0:0:address", "balanceOf:1:0:mapping", "sum:2:0:uint256", "flag:3:0:bool"), nil},
		{"packed in front", layoutOf("flag:0:0:bool", "owner:0:1:address", "balanceOf:1:0:mapping", "total:2:0:uint256"),
			[]string{"slot 0: `owner` (address) in the old layout is `flag` (bool) in the new"}},
		{"inserted", layoutOf("owner:0:0:address", "paused:1:0:uint256", "balanceOf:2:0:mapping", "total:3:0:uint256"),
			[]string{"slot 1: `balanceOf` (mapping(address => uint256)) in the old layout is `paused` (uint256) in the new",
				"slot 2: `total` (uint256) in the old layout is `balanceOf` (mapping(address => uint256)) in the new"}},
		{"removed", layoutOf("owner:0:0:address", "balanceOf:1:0:mapping"),
			[]string{"slot 2: `total` (uint256) in the old layout is not in the new one"}},
	}
	o, err := patch.ParseLayout(old)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := patch.ParseLayout(tt.new)
			if err != nil {
				t.Fatal(err)
			}
			errs := patch.CompareLayouts(o, n)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %v", errs, tt.want)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tt.want[i]) {
					t.Errorf("got %q\nwant %q", e, tt.want[i])
				}
			}
		})
	}
}

func TestParseLayoutRefuses(t *testing.T) {
	for _, raw := range []string{"", "null", "{", `{"storage":[{"label":"x","slot":"-1","type":"t"}],"types":{"t":{"label":"uint256","numberOfBytes":"32"}}}`,
		`{"storage":[{"label":"x","slot":"0","type":"t_missing"}],"types":{}}`,
		`{"storage":[{"label":"x","slot":"0","offset":40,"type":"t"}],"types":{"t":{"label":"uint256","numberOfBytes":"32"}}}`,
		`{"storage":[{"label":"x","slot":"0","type":"t"}],"types":{"t":{"label":"uint256","numberOfBytes":"many"}}}`} {
		if _, err := patch.ParseLayout([]byte(raw)); !errors.Is(err, patch.ErrLayout) {
			t.Errorf("%q: error %v, want ErrLayout", raw, err)
		}
	}
}

// FuzzParseLayout: any input is a layout or ErrLayout, never a panic, and
// a layout never conflicts with itself.
func FuzzParseLayout(f *testing.F) {
	f.Add(layoutOf("owner:0:0:address", "balanceOf:1:0:mapping", "total:2:0:uint256"))
	f.Add(layoutOf("flag:0:0:bool", "owner:0:1:address"))
	f.Add([]byte(`{"storage":[{"label":"x","slot":"115792089237316195423570985008687907853269984665640564039457584007913129639936","type":"t"}],"types":{"t":{"label":"uint256","numberOfBytes":"32"}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		l, err := patch.ParseLayout(raw)
		if err != nil {
			if !errors.Is(err, patch.ErrLayout) {
				t.Fatalf("error %v is not ErrLayout", err)
			}
			return
		}
		if errs := patch.CompareLayouts(l, l); len(errs) > 0 {
			t.Fatalf("a layout conflicts with itself: %v", errs)
		}
	})
}
