package main

import (
	"strings"
	"testing"
)

// TestPatchCheckRefuses lists command lines patch-check refuses before it
// reads anything, and what each error says to do.
func TestPatchCheckRefuses(t *testing.T) {
	t.Setenv("BLOCKTORCH_SERVER", "http://127.0.0.1:1")
	t.Setenv("BLOCKTORCH_RPC", "http://127.0.0.1:1")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--proxy", "0x0000000000000000000000000000000000000001"}, "missing --impl PATH"},
		{[]string{"--impl", "out", "--proxy", "vault"}, `--proxy "vault" is not an address`},
		{[]string{"--impl", "out", "--proxy", "0x0000000000000000000000000000000000000001", "--txs", "incident:x"}, "--txs: incident:x: an incident is named by its number"},
		{[]string{"--impl", "out", "--proxy", "0x0000000000000000000000000000000000000001", "--sample", "0"}, "nothing to replay"},
		{[]string{"--impl", "out", "--proxy", "0x0000000000000000000000000000000000000001", "--txs", "file:/nonexistent/txs"}, "cannot read --txs file"},
		{[]string{"--impl", "/nonexistent", "--proxy", "0x0000000000000000000000000000000000000001"}, "cannot load --impl"},
	} {
		code, _, errOut := runCLI(t, append([]string{"patch-check"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}
