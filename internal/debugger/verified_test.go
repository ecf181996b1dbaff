package debugger

import (
	"testing"

	democontracts "github.com/blocktorch/blocktorch/contracts"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// A contract verified again replaces its earlier artifact: the newest
// mapping answers, and the set does not grow with each verification (a
// server that loads its stored verifications and is then sent the same
// ones again).
func TestAddVerifiedAgainReplaces(t *testing.T) {
	in, out := democontracts.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	var vault contracts.Artifact
	for _, a := range arts {
		if a.Name == "LendingVault" {
			vault = a
		}
	}
	// The same code verified from sources whose lines moved down by three.
	moved := vault
	moved.Sources = map[string]string{}
	for name, text := range vault.Sources {
		moved.Sources[name] = text
	}
	moved.Sources[vault.SourceName] = "//\n//\n//\n" + vault.Sources[vault.SourceName]

	set := NewArtifacts()
	for _, a := range []contracts.Artifact{vault, moved, vault, moved} {
		if err := set.AddVerified([]contracts.Artifact{a}); err != nil {
			t.Fatal(err)
		}
	}
	if len(set.list) != 1 {
		t.Errorf("four verifications of one contract hold %d artifacts, want 1", len(set.list))
	}
	only := NewArtifacts()
	if err := only.AddVerified([]contracts.Artifact{moved}); err != nil {
		t.Fatal(err)
	}
	code, err := sourcemap.DecodeObject(vault.DeployedBytecode)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for pc := range uint64(len(code)) {
		want, ok := only.Locate(code, pc)
		if !ok || want.File != vault.SourceName {
			continue
		}
		got, _ := set.Locate(code, pc)
		if got != want {
			t.Fatalf("pc %d: %+v, want the newest verification's %+v", pc, got, want)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no pc maps to the vault's source")
	}
}
