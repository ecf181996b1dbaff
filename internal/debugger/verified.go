package debugger

import (
	"cmp"
	"crypto/sha256"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// AddVerified adds compiled contracts as the contracts package loads and
// verifies them (Foundry, Hardhat, solc standard JSON), so that their code
// maps to source lines.
//
// Source names are only unique within one build: two verified projects may
// both have src/Token.sol, or two versions of an OpenZeppelin file, with
// different texts. A text whose name is already taken by another text is
// known by its name with "#" and the start of its SHA-256 appended, so
// that each name the debugger shows has one text.
func (s *Artifacts) AddVerified(arts []contracts.Artifact) error {
	for _, a := range arts {
		a = s.ownNames(a)
		rt, _ := sourcemap.DecodeObject(a.DeployedBytecode)
		cr, _ := sourcemap.DecodeObject(a.Bytecode)
		c := CompiledContract{
			Name: a.Name, SourceName: a.SourceName, ABI: a.ABI, Runtime: rt, Creation: cr,
			StorageLayout: a.StorageLayout, Approximate: a.Settings.Optimizer || a.Settings.ViaIR, Sources: a.Sources,
		}
		if len(rt) > 0 {
			c.RuntimeMap, _ = a.Mapper(true)
		}
		if len(cr) > 0 {
			c.CreationMap, _ = a.Mapper(false)
		}
		if err := s.Add(c); err != nil {
			return fmt.Errorf("cannot use %s: %w", a.FullName(), err)
		}
	}
	return nil
}

// ownNames returns a with its sources renamed where their names are taken
// by other texts, and claims the names for its texts.
func (s *Artifacts) ownNames(a contracts.Artifact) contracts.Artifact {
	s.mu.Lock()
	defer s.mu.Unlock()
	renamed := map[string]string{}
	for name, text := range a.Sources {
		own := name
		if have, ok := s.contents[name]; ok && have != text {
			h := sha256.Sum256([]byte(text))
			own = fmt.Sprintf("%s#%x", name, h[:4])
		}
		s.contents[own] = text
		if own != name {
			renamed[name] = own
		}
	}
	if len(renamed) == 0 {
		return a
	}
	sources := make(map[string]string, len(a.Sources))
	for name, text := range a.Sources {
		sources[cmp.Or(renamed[name], name)] = text
	}
	ids := make(map[string]int, len(a.SourceIDs))
	for name, id := range a.SourceIDs {
		ids[cmp.Or(renamed[name], name)] = id
	}
	a.Sources, a.SourceIDs = sources, ids
	return a
}
