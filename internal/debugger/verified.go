package debugger

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
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
		if err := s.addVerified(a, false); err != nil {
			return err
		}
	}
	return nil
}

// AddVerifiedCode adds a contract as a server's contract page shows its
// verification (sources, deployed source map, no artifact), mapped onto
// code, the runtime code that ran (a trace's). Its source names are owned
// as AddVerified owns them. A source map that does not fit the code is an
// error, and nothing is added: without it the contract shows no line.
func (s *Artifacts) AddVerifiedCode(r contracts.Result, code []byte) error {
	a := contracts.Artifact{
		Name: r.ContractName, SourceName: r.SourceName, ABI: r.ABI,
		DeployedBytecode: hex.EncodeToString(code), DeployedSourceMap: r.DeployedSourceMap,
		StorageLayout: r.StorageLayout, Settings: r.Settings, Sources: r.Sources, SourceIDs: r.SourceIDs,
	}
	return s.addVerified(a, true)
}

// addVerified is the one way a verified contract reaches the set; with
// needMap, a runtime source map that does not fit is an error.
func (s *Artifacts) addVerified(a contracts.Artifact, needMap bool) error {
	if needMap {
		// Checked before the names are claimed, so a refused contract
		// leaves no trace in the set.
		if _, err := a.Mapper(true); err != nil {
			return err
		}
	}
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
