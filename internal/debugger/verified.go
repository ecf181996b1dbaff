package debugger

import (
	"fmt"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// AddVerified adds compiled contracts as the contracts package loads and
// verifies them (Foundry, Hardhat, solc standard JSON), so that their code
// maps to source lines.
func (s *Artifacts) AddVerified(arts []contracts.Artifact) error {
	for _, a := range arts {
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
