package sourcemap

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Bytecode kinds of a contract.
const (
	Creation = false // evm.bytecode
	Runtime  = true  // evm.deployedBytecode
)

type stdInput struct {
	Sources map[string]struct {
		Content string `json:"content"`
	} `json:"sources"`
}

type stdOutput struct {
	Sources map[string]struct {
		ID int `json:"id"`
	} `json:"sources"`
	Contracts map[string]map[string]struct {
		EVM struct {
			Bytecode         stdBytecode `json:"bytecode"`
			DeployedBytecode stdBytecode `json:"deployedBytecode"`
		} `json:"evm"`
	} `json:"contracts"`
}

type stdBytecode struct {
	Object           string          `json:"object"`
	SourceMap        string          `json:"sourceMap"`
	GeneratedSources json.RawMessage `json:"generatedSources"`
}

// StandardJSONSources returns the sources of a solc standard-JSON
// input/output pair with their ids, sorted by id. Contents come from the
// input ("content"); a source whose content the input does not hold (given by
// URL) has empty Content.
func StandardJSONSources(input, output []byte) ([]Source, error) {
	var in stdInput
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, fmt.Errorf("cannot decode solc standard-JSON input: %w", err)
	}
	var out struct {
		Sources map[string]struct {
			ID int `json:"id"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(output, &out); err != nil {
		return nil, fmt.Errorf("cannot decode solc standard-JSON output: %w", err)
	}
	srcs := make([]Source, 0, len(out.Sources))
	for name, s := range out.Sources {
		srcs = append(srcs, Source{ID: s.ID, Name: name, Content: in.Sources[name].Content})
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].ID < srcs[j].ID })
	return srcs, nil
}

// GeneratedSources decodes a bytecode object's "generatedSources" array into
// sources marked Generated. A null or empty value yields none.
func GeneratedSources(raw json.RawMessage) ([]Source, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var gen []struct {
		ID       int    `json:"id"`
		Name     string `json:"name"`
		Contents string `json:"contents"`
	}
	if err := json.Unmarshal(raw, &gen); err != nil {
		return nil, fmt.Errorf("cannot decode generatedSources: %w", err)
	}
	out := make([]Source, len(gen))
	for i, g := range gen {
		out[i] = Source{ID: g.ID, Name: g.Name, Content: g.Contents, Generated: true}
	}
	return out, nil
}

// FromStandardJSON builds the Mapper of contract name in source unit unit
// from a solc standard-JSON input/output pair, for its runtime code
// (Runtime) or creation code (Creation). Unlinked library placeholders in
// the bytecode are read as zero addresses, which does not move instructions.
func FromStandardJSON(input, output []byte, unit, name string, runtime bool) (*Mapper, error) {
	srcs, err := StandardJSONSources(input, output)
	if err != nil {
		return nil, err
	}
	var out stdOutput
	if err := json.Unmarshal(output, &out); err != nil {
		return nil, fmt.Errorf("cannot decode solc standard-JSON output: %w", err)
	}
	c, ok := out.Contracts[unit][name]
	if !ok {
		return nil, fmt.Errorf("contract %s:%s is not in the solc output", unit, name)
	}
	bc := c.EVM.Bytecode
	if runtime {
		bc = c.EVM.DeployedBytecode
	}
	code, err := DecodeObject(bc.Object)
	if err != nil {
		return nil, fmt.Errorf("cannot decode bytecode of %s:%s: %w", unit, name, err)
	}
	gen, err := GeneratedSources(bc.GeneratedSources)
	if err != nil {
		return nil, fmt.Errorf("cannot read generated sources of %s:%s: %w", unit, name, err)
	}
	m, err := New(code, bc.SourceMap, append(srcs, gen...))
	if err != nil {
		return nil, fmt.Errorf("cannot read source map of %s:%s: %w", unit, name, err)
	}
	return m, nil
}

// DecodeObject decodes a solc bytecode "object" (hex, with or without 0x),
// reading each unlinked library placeholder ("__$<34 hex>$__" or the older
// "__<name>___") as 20 zero bytes.
func DecodeObject(object string) ([]byte, error) {
	object = strings.TrimPrefix(object, "0x")
	if strings.Contains(object, "__") {
		b := []byte(object)
		for i := 0; i+40 <= len(b); {
			if b[i] == '_' && b[i+1] == '_' {
				copy(b[i:i+40], strings.Repeat("0", 40))
				i += 40
				continue
			}
			i += 2
		}
		object = string(b)
	}
	code, err := hex.DecodeString(object)
	if err != nil {
		return nil, fmt.Errorf("bytecode is not hex: %w", err)
	}
	return code, nil
}
