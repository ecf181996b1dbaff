package debugger

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// A contract known from a server's contract page (AddVerifiedCode, as
// `blocktorch trace --server` learns it) maps the code that ran to the same
// lines as the same contract known from its artifact (AddVerified), except
// in compiler-generated code, which a page does not carry; a source
// map that does not fit the code is refused and leaves nothing in the set.
func TestAddVerifiedCodeMapsAsArtifact(t *testing.T) {
	in, out := demo.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	vault := demoArtifact(t, arts, "LendingVault")
	code, err := sourcemap.DecodeObject(vault.DeployedBytecode)
	if err != nil {
		t.Fatal(err)
	}
	page := contracts.Result{
		ContractName: vault.Name, SourceName: vault.SourceName, ABI: vault.ABI, StorageLayout: vault.StorageLayout,
		Settings: vault.Settings, Sources: vault.Sources, SourceIDs: vault.SourceIDs, DeployedSourceMap: vault.DeployedSourceMap,
	}

	fromArtifact, fromPage := NewArtifacts(), NewArtifacts()
	if err := fromArtifact.AddVerified([]contracts.Artifact{vault}); err != nil {
		t.Fatal(err)
	}
	if err := fromPage.AddVerifiedCode(page, code); err != nil {
		t.Fatalf("AddVerifiedCode: %v", err)
	}
	mapped := 0
	for pc := range uint64(len(code)) {
		want, wok := fromArtifact.Locate(code, pc)
		if want.Generated {
			continue // a page carries no compiler-generated sources
		}
		got, gok := fromPage.Locate(code, pc)
		if wok != gok || got != want {
			t.Fatalf("pc %d: from the page %+v (%v), from the artifact %+v (%v)", pc, got, gok, want, wok)
		}
		if wok {
			mapped++
		}
	}
	if mapped == 0 {
		t.Fatal("no pc mapped to a line")
	}
	if name, ok := fromPage.ContractName(code); !ok || name != vault.Name {
		t.Errorf("contract name %q, %v; want %s", name, ok, vault.Name)
	}

	broken := page
	broken.DeployedSourceMap = "x:y:z"
	refused := NewArtifacts()
	if err := refused.AddVerifiedCode(broken, code); err == nil {
		t.Fatal("a malformed source map was accepted")
	}
	if _, ok := refused.Content(vault.SourceName); ok || len(refused.list) != 0 {
		t.Error("a refused contract left its sources or itself in the set")
	}
}
