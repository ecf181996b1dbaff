package debugger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"sync"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/ethereum/go-ethereum/common"
)

// Artifacts is a set of compiled contracts that implements Sources and
// Names: it recognises code by comparing it with each contract's bytecode
// (ignoring the CBOR metadata and immutable values), and maps PCs through
// internal/sourcemap. It is safe for concurrent use.
type Artifacts struct {
	mu       sync.Mutex
	list     []*artifact
	contents map[string]string
	byCode   map[common.Hash]*match // nil value: no artifact matches
}

type artifact struct {
	unit, name        string
	runtime, creation []byte
	rtMap, crMap      *sourcemap.Mapper
	approximate       bool
	abi               json.RawMessage
	slots             map[common.Hash]layoutSlot
}

type layoutSlot struct{ label, typ string }

type match struct {
	a       *artifact
	runtime bool
}

// NewArtifacts returns an empty set.
func NewArtifacts() *Artifacts {
	return &Artifacts{contents: make(map[string]string), byCode: make(map[common.Hash]*match)}
}

type stdInputJSON struct {
	Sources map[string]struct {
		Content string `json:"content"`
	} `json:"sources"`
	Settings struct {
		ViaIR     bool `json:"viaIR"`
		Optimizer struct {
			Enabled bool `json:"enabled"`
		} `json:"optimizer"`
	} `json:"settings"`
}

type stdBytecodeJSON struct {
	Object           string          `json:"object"`
	SourceMap        string          `json:"sourceMap"`
	GeneratedSources json.RawMessage `json:"generatedSources"`
}

type stdOutputJSON struct {
	Contracts map[string]map[string]struct {
		ABI           json.RawMessage `json:"abi"`
		StorageLayout json.RawMessage `json:"storageLayout"`
		EVM           struct {
			Bytecode         stdBytecodeJSON `json:"bytecode"`
			DeployedBytecode stdBytecodeJSON `json:"deployedBytecode"`
		} `json:"evm"`
	} `json:"contracts"`
}

// AddStandardJSON adds every contract of a solc standard-JSON input and
// output pair.
func (s *Artifacts) AddStandardJSON(input, output []byte) error {
	var in stdInputJSON
	if err := json.Unmarshal(input, &in); err != nil {
		return fmt.Errorf("cannot decode solc input: %w", err)
	}
	var out stdOutputJSON
	if err := json.Unmarshal(output, &out); err != nil {
		return fmt.Errorf("cannot decode solc output: %w", err)
	}
	srcs, err := sourcemap.StandardJSONSources(input, output)
	if err != nil {
		return err
	}
	approx := in.Settings.ViaIR || in.Settings.Optimizer.Enabled
	units := make([]string, 0, len(out.Contracts))
	for u := range out.Contracts {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, unit := range units {
		names := make([]string, 0, len(out.Contracts[unit]))
		for n := range out.Contracts[unit] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			c := out.Contracts[unit][name]
			cc := CompiledContract{Name: name, SourceName: unit, ABI: c.ABI, Approximate: approx}
			var err error
			if cc.Runtime, cc.RuntimeMap, err = mapperOf(c.EVM.DeployedBytecode, srcs); err != nil {
				return fmt.Errorf("%s:%s runtime code: %w", unit, name, err)
			}
			if cc.Creation, cc.CreationMap, err = mapperOf(c.EVM.Bytecode, srcs); err != nil {
				return fmt.Errorf("%s:%s creation code: %w", unit, name, err)
			}
			cc.StorageLayout = c.StorageLayout
			if err := s.Add(cc); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, src := range in.Sources {
		s.contents[name] = src.Content
	}
	return nil
}

// CompiledContract is one contract to recognise, however it was loaded.
type CompiledContract struct {
	Name, SourceName string
	ABI              json.RawMessage
	// Runtime and Creation are the code objects; RuntimeMap and
	// CreationMap map their PCs (either may be nil).
	Runtime, Creation       []byte
	RuntimeMap, CreationMap *sourcemap.Mapper
	// StorageLayout is solc's storageLayout output, if any.
	StorageLayout json.RawMessage
	// Approximate is set for code compiled with the optimizer or via IR.
	Approximate bool
	// Sources are source texts by name, for Content.
	Sources map[string]string
}

type storageLayoutJSON struct {
	Storage []struct {
		Label string `json:"label"`
		Slot  string `json:"slot"`
		Type  string `json:"type"`
	} `json:"storage"`
	Types map[string]struct {
		Label string `json:"label"`
	} `json:"types"`
}

// Add adds one contract, or replaces the one with the same name and code;
// interfaces and abstract contracts (no code) are skipped.
func (s *Artifacts) Add(c CompiledContract) error {
	if len(c.Runtime) == 0 && len(c.Creation) == 0 {
		return nil
	}
	a := &artifact{unit: c.SourceName, name: c.Name, approximate: c.Approximate, abi: c.ABI,
		runtime: c.Runtime, creation: c.Creation, rtMap: c.RuntimeMap, crMap: c.CreationMap,
		slots: make(map[common.Hash]layoutSlot)}
	if len(c.StorageLayout) > 0 && string(c.StorageLayout) != "null" {
		var l storageLayoutJSON
		if err := json.Unmarshal(c.StorageLayout, &l); err != nil {
			return fmt.Errorf("cannot read the storage layout of %s: %w", c.Name, err)
		}
		for _, v := range l.Storage {
			n, ok := new(big.Int).SetString(v.Slot, 10)
			if !ok || n.BitLen() > 256 {
				continue
			}
			slot := common.BigToHash(n)
			typ := l.Types[v.Type].Label
			if prev, ok := a.slots[slot]; ok {
				// Packed variables share a slot.
				a.slots[slot] = layoutSlot{label: prev.label + "," + v.Label, typ: prev.typ + "," + typ}
			} else {
				a.slots[slot] = layoutSlot{label: v.Label, typ: typ}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, src := range c.Sources {
		s.contents[name] = src
	}
	// The same contract added again (verified again, perhaps from sources
	// whose comments moved its lines) replaces the earlier one, so that
	// the newest mapping wins and the set does not grow.
	for i, old := range s.list {
		if old.unit == a.unit && old.name == a.name && bytes.Equal(old.runtime, a.runtime) && bytes.Equal(old.creation, a.creation) {
			s.list[i] = a
			clear(s.byCode)
			return nil
		}
	}
	s.list = append(s.list, a)
	clear(s.byCode)
	return nil
}

func mapperOf(bc stdBytecodeJSON, srcs []sourcemap.Source) ([]byte, *sourcemap.Mapper, error) {
	code, err := sourcemap.DecodeObject(bc.Object)
	if err != nil || len(code) == 0 {
		return nil, nil, err
	}
	gen, err := sourcemap.GeneratedSources(bc.GeneratedSources)
	if err != nil {
		return nil, nil, err
	}
	m, err := sourcemap.New(code, bc.SourceMap, append(append([]sourcemap.Source(nil), srcs...), gen...))
	if err != nil {
		return nil, nil, err
	}
	return code, m, nil
}

// sameCode reports whether chain code is artifact code: equal outside the
// metadata, where differing bytes may only be immutables (zero in the
// artifact).
func sameCode(chain, art []byte) bool {
	cl, al := len(chain)-sourcemap.MetadataLength(chain), len(art)-sourcemap.MetadataLength(art)
	if cl != al {
		return false
	}
	for i := 0; i < cl; i++ {
		if chain[i] != art[i] && art[i] != 0 {
			return false
		}
	}
	return true
}

func (s *Artifacts) find(code []byte) *match {
	h := codeHash(code)
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.byCode[h]; ok {
		return m
	}
	var found *match
	for _, a := range s.list {
		if len(a.runtime) > 0 && sameCode(code, a.runtime) {
			found = &match{a: a, runtime: true}
			break
		}
		// Init code is the creation code followed by constructor arguments.
		if n := len(a.creation); n > 0 && len(code) >= n && bytes.Equal(code[:n-sourcemap.MetadataLength(a.creation)], a.creation[:n-sourcemap.MetadataLength(a.creation)]) {
			found = &match{a: a}
			break
		}
	}
	s.byCode[h] = found
	return found
}

// Locate implements Sources.
func (s *Artifacts) Locate(code []byte, pc uint64) (Location, bool) {
	m := s.find(code)
	if m == nil {
		return Location{}, false
	}
	mp := m.a.crMap
	if m.runtime {
		mp = m.a.rtMap
	}
	if mp == nil {
		return Location{}, false
	}
	loc, ok := mp.Locate(pc)
	if !ok {
		return Location{}, false
	}
	return Location{
		File: loc.File, Line: loc.Line, Column: loc.Column, Generated: loc.Generated,
		Approximate: m.a.approximate || loc.Generated, Offset: loc.Offset, Length: loc.Length,
	}, true
}

// Content implements Sources.
func (s *Artifacts) Content(file string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contents[file]
	return c, ok
}

// ContractName implements Names.
func (s *Artifacts) ContractName(code []byte) (string, bool) {
	if m := s.find(code); m != nil {
		return m.a.name, true
	}
	return "", false
}

// SlotLabel implements Names: the variable declared at slot by the
// contract's storage layout (mappings and arrays live at hashed slots,
// which are not named).
func (s *Artifacts) SlotLabel(code []byte, slot common.Hash) (string, string, bool) {
	m := s.find(code)
	if m == nil {
		return "", "", false
	}
	l, ok := m.a.slots[slot]
	return l.label, l.typ, ok
}

// ABI implements Names.
func (s *Artifacts) ABI(code []byte) (string, []byte, bool) {
	m := s.find(code)
	if m == nil || len(m.a.abi) == 0 {
		return "", nil, false
	}
	return m.a.name, m.a.abi, true
}
