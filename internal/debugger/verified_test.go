package debugger

import (
	"maps"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// A contract verified again replaces its earlier artifact: the newest
// mapping answers, and the set does not grow with each verification (a
// server that loads its stored verifications and is then sent the same
// ones again).
func TestAddVerifiedAgainReplaces(t *testing.T) {
	in, out := demo.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	vault := demoArtifact(t, arts, "LendingVault")
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
		text, _ := set.Content(got.File)
		if got.Line != want.Line || got.Column != want.Column || text != moved.Sources[vault.SourceName] {
			t.Fatalf("pc %d: %+v, want the newest verification's %+v and its text", pc, got, want)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no pc maps to the vault's source")
	}
}

func demoArtifact(t *testing.T, arts []contracts.Artifact, name string) contracts.Artifact {
	t.Helper()
	for _, a := range arts {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no %s in the demo build", name)
	return contracts.Artifact{}
}

// Two verified projects with one file name and different texts (two
// versions of an OpenZeppelin file): each contract's locations name a file
// whose text is the one it was verified with.
func TestAddVerifiedSameNameOtherText(t *testing.T) {
	in, out := demo.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	const shared = "@openzeppelin/contracts/access/Ownable.sol"
	token := demoArtifact(t, arts, "DemoToken")
	feed := demoArtifact(t, arts, "PriceFeed")
	feed.Sources = maps.Clone(feed.Sources)
	feed.Sources[shared] = "// another version\n//\n//\n" + feed.Sources[shared]

	set := NewArtifacts()
	if err := set.AddVerified([]contracts.Artifact{token, feed}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []contracts.Artifact{token, feed} {
		code, err := sourcemap.DecodeObject(a.DeployedBytecode)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for pc := range uint64(len(code)) {
			loc, ok := set.Locate(code, pc)
			if !ok || !strings.HasPrefix(loc.File, shared) {
				continue
			}
			if text, _ := set.Content(loc.File); text != a.Sources[shared] {
				t.Fatalf("%s pc %d is in %s, whose text is not the one %s was verified with", a.Name, pc, loc.File, a.Name)
			}
			seen++
		}
		if seen == 0 {
			t.Fatalf("no pc of %s maps to %s", a.Name, shared)
		}
	}
}
