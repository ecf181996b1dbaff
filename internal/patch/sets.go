package patch

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// Set kinds: where the chosen transactions come from.
const (
	SetIncident = "incident" // an incident's failing and linked transactions
	SetFile     = "file"     // a file of hashes, one per line
	SetQuery    = "query"    // the transactions of a search's records
	SetHashes   = "hashes"   // hashes given inline, comma-separated
)

// Set names the chosen transactions: "incident:ID", "file:PATH",
// "query:QUERY", or hashes ("0x…,0x…").
type Set struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (s Set) String() string {
	if s.Kind == SetHashes {
		return s.Value
	}
	return s.Kind + ":" + s.Value
}

// ParseSet reads a set's text.
func ParseSet(text string) (Set, error) {
	text = strings.TrimSpace(text)
	kind, value, ok := strings.Cut(text, ":")
	switch {
	case text == "":
		return Set{}, fmt.Errorf("%w: no transactions named: give incident:ID, file:PATH, query:QUERY or hashes", ErrInvalid)
	case ok && kind == SetIncident:
		if n, err := strconv.ParseInt(value, 10, 64); err != nil || n <= 0 {
			return Set{}, fmt.Errorf("%w: incident:%s: an incident is named by its number (incident:3)", ErrInvalid, value)
		}
		return Set{Kind: SetIncident, Value: value}, nil
	case ok && kind == SetFile:
		if value == "" {
			return Set{}, fmt.Errorf("%w: file: needs a path (file:txs.txt)", ErrInvalid)
		}
		return Set{Kind: SetFile, Value: value}, nil
	case ok && kind == SetQuery:
		if strings.TrimSpace(value) == "" {
			return Set{}, fmt.Errorf("%w: query: needs a search (query:'kind:tx status:failed')", ErrInvalid)
		}
		return Set{Kind: SetQuery, Value: value}, nil
	}
	if _, err := ParseHashes(strings.NewReader(strings.ReplaceAll(text, ",", "\n")), 0); err != nil {
		return Set{}, fmt.Errorf("%w: %q is not incident:ID, file:PATH, query:QUERY or transaction hashes", ErrInvalid, text)
	}
	return Set{Kind: SetHashes, Value: text}, nil
}

var hashRE = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)

// ParseHashes reads transaction hashes, one per line; blank lines and
// text after "#" are skipped. More than max hashes (max > 0) is
// ErrTooMany; anything else on a line is ErrInvalid naming the line.
func ParseHashes(r io.Reader, max int) ([]common.Hash, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<16)
	var out []common.Hash
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !hashRE.MatchString(line) {
			show := line
			if len(show) > 80 {
				show = show[:80] + "…"
			}
			return nil, fmt.Errorf("%w: line %d: %q is not a transaction hash (0x and 64 hex digits)", ErrInvalid, n, show)
		}
		if max > 0 && len(out) == max {
			return nil, fmt.Errorf("%w: more than %d hashes: narrow the set", ErrTooMany, max)
		}
		out = append(out, common.HexToHash(line))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: cannot read the hashes: %v", ErrInvalid, err)
	}
	return out, nil
}
