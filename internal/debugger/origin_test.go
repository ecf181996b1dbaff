package debugger

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// The origin fixtures are internal/demo/contracts/fixtures/origin compiled three ways
// (plain, optimizer with 200 runs, via IR with the optimizer) by
// internal/demo/contracts/compile.js into testdata/origin/<build>; `make contracts`
// regenerates them (and testdata/demo, the demo contracts built with the
// optimizer and via IR).
//
// The line each failure comes from carries a "// @fail:NAME" comment in the
// sources: that, not the debugger, is the truth the tests hold it to.

var updateOrigins = flag.Bool("update-origins", false, "rewrite testdata/origin/results.golden")

var originBuilds = []string{"plain", "optimized", "viair"}

type originBuild struct {
	name  string
	arts  *Artifacts
	out   stdOutputJSON
	truth map[string]markedLine
}

type markedLine struct {
	file string
	line int
}

var failMarker = regexp.MustCompile(`//\s*@fail:([a-z]+)`)

// loadOriginBuild reads one build of the fixtures and the truth markers of
// its sources.
func loadOriginBuild(t *testing.T, name string) *originBuild {
	t.Helper()
	dir := filepath.Join("testdata", "origin", name)
	in, err := os.ReadFile(filepath.Join(dir, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "output.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := &originBuild{name: name, arts: NewArtifacts(), truth: make(map[string]markedLine)}
	if err := b.arts.AddStandardJSON(in, out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &b.out); err != nil {
		t.Fatal(err)
	}
	var input stdInputJSON
	if err := json.Unmarshal(in, &input); err != nil {
		t.Fatal(err)
	}
	for file, src := range input.Sources {
		sc := bufio.NewScanner(strings.NewReader(src.Content))
		for n := 1; sc.Scan(); n++ {
			if m := failMarker.FindStringSubmatch(sc.Text()); m != nil {
				if prev, dup := b.truth[m[1]]; dup {
					t.Fatalf("marker %s on %s:%d and %s:%d", m[1], prev.file, prev.line, file, n)
				}
				b.truth[m[1]] = markedLine{file, n}
			}
		}
	}
	return b
}

func (b *originBuild) contract(t *testing.T, name string) (code []byte, parsed abi.ABI) {
	t.Helper()
	for unit, cs := range b.out.Contracts {
		if !strings.HasPrefix(unit, "fixtures/origin/") {
			continue
		}
		if c, ok := cs[name]; ok {
			code, err := sourcemap.DecodeObject(c.EVM.Bytecode.Object)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := abi.JSON(strings.NewReader(string(c.ABI)))
			if err != nil {
				t.Fatal(err)
			}
			return code, parsed
		}
	}
	t.Fatalf("no contract %s in build %s", name, b.name)
	return nil, abi.ABI{}
}

// deploy creates a contract and returns its address.
func (b *originBuild) deploy(t *testing.T, h *chainHarness, name string, args ...any) (common.Address, abi.ABI) {
	t.Helper()
	code, parsed := b.contract(t, name)
	enc, err := parsed.Pack("", args...)
	if err != nil {
		t.Fatal(err)
	}
	hash, r := h.send(t, nil, append(code, enc...), 8_000_000)
	if r.Status != 1 {
		res, err := (&Local{RPC: h.rc}).Replay(context.Background(), hash, Options{Dir: t.TempDir(), Sources: b.arts})
		if err != nil {
			t.Fatalf("%s: deploying %s failed; replay: %v", b.name, name, err)
		}
		t.Fatalf("%s: deploying %s failed: %+v", b.name, name, res.Failure)
	}
	return r.ContractAddress, parsed
}

// originCase is one failure path: the transaction that takes it.
type originCase struct {
	path  string // the marker name of the origin line
	to    common.Address
	data  []byte
	value *big.Int
	gas   uint64
}

// originCases deploys the fixtures of one build and returns the
// transactions of every failure path.
func originCases(t *testing.T, b *originBuild, h *chainHarness) []originCase {
	t.Helper()
	origins, oABI := b.deploy(t, h, "Origins")
	proxy, _ := b.deploy(t, h, "OriginsProxy", origins)
	reenterer, rABI := b.deploy(t, h, "Reenterer")
	factory, fABI := b.deploy(t, h, "Factory")
	token, _ := b.deploy(t, h, "Token")
	router, routerABI := b.deploy(t, h, "Router")
	payer, pABI := b.deploy(t, h, "Payer")
	rejecter, _ := b.deploy(t, h, "Rejecter")
	pack := func(a abi.ABI, method string, args ...any) []byte {
		t.Helper()
		d, err := a.Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	n := big.NewInt
	return []originCase{
		{path: "require", to: origins, data: pack(oABI, "requireMessage", n(5))},
		{path: "modifier", to: origins, data: pack(oABI, "ownerOnly", n(1))},
		{path: "library", to: origins, data: pack(oABI, "libraryOverflow", n(2))},
		{path: "division", to: origins, data: pack(oABI, "divide", n(1), n(0))},
		{path: "index", to: origins, data: pack(oABI, "at", n(5))},
		{path: "assert", to: origins, data: pack(oABI, "check", n(13))},
		{path: "constructor", to: factory, data: pack(fABI, "make", n(0))},
		{path: "proxy", to: proxy, data: pack(oABI, "proxied", n(4))},
		{path: "reentrancy", to: reenterer, data: pack(rABI, "attack", origins)},
		{path: "lowlevel", to: origins, data: pack(oABI, "afterLowLevel", n(5))},
		{path: "trycatch", to: origins, data: pack(oABI, "afterTryCatch", n(5))},
		{path: "router", to: router, data: pack(routerABI, "send", token, common.Address{1}, n(1))},
		{path: "receive", to: payer, data: pack(pABI, "pay", rejecter), value: n(1)},
		{path: "outofgas", to: origins, data: pack(oABI, "burn"), gas: 100_000},
		{path: "sametail", to: origins, data: pack(oABI, "refuseTwice", n(2))},
	}
}

// originOutcome renders what the debugger said of one failure against the
// truth, one line of the results golden.
func originOutcome(f *Failure, want markedLine) (line string, ok bool) {
	if f == nil {
		return "no failure found", false
	}
	got := fmt.Sprintf("%s:%d", f.File, f.Line)
	if f.Approximate {
		got += " approximate"
		if f.FromLine != 0 {
			got += fmt.Sprintf(" %d-%d", f.FromLine, f.ToLine)
		}
	}
	switch {
	case f.File == want.file && f.Line == want.line:
		return got + " ok", true
	case f.File == want.file && f.Approximate && f.FromLine <= want.line && want.line <= f.ToLine:
		return fmt.Sprintf("%s in range (truth %d)", got, want.line), false
	}
	return fmt.Sprintf("%s WRONG (truth %s:%d)", got, want.file, want.line), false
}

// runOrigins sends every failure path of every build and replays each
// through reps, returning the results golden's lines.
func runOrigins(t *testing.T, h *chainHarness, reps []replayer) ([]string, map[string]common.Hash) {
	var lines []string
	hashes := make(map[string]common.Hash)
	ctx := context.Background()
	for _, name := range originBuilds {
		b := loadOriginBuild(t, name)
		for _, c := range originCases(t, b, h) {
			want, ok := b.truth[c.path]
			if !ok {
				t.Fatalf("no @fail:%s marker in the sources", c.path)
			}
			gas := c.gas
			if gas == 0 {
				gas = 3_000_000
			}
			hash, r := h.sendValue(t, &c.to, c.data, gas, c.value)
			if r.Status != 0 {
				t.Fatalf("%s/%s: the transaction succeeded", name, c.path)
			}
			hashes[name+"/"+c.path] = hash
			for _, rp := range reps {
				res, err := rp.replay(ctx, hash, Options{Dir: t.TempDir(), Sources: b.arts, Names: b.arts})
				if err != nil {
					t.Fatalf("%s/%s/%s: replay: %v", name, c.path, rp.name, err)
				}
				f := res.Failure
				if f != nil && !f.Approximate && (f.File != want.file || f.Line != want.line) {
					t.Errorf("%s/%s/%s: %s:%d given as exact, truth %s:%d", name, c.path, rp.name, f.File, f.Line, want.file, want.line)
				}
				if f != nil && f.Approximate && (f.FromLine > f.Line || f.Line > f.ToLine || f.FromLine == 0) {
					t.Errorf("%s/%s/%s: line %d outside its candidate range %d-%d", name, c.path, rp.name, f.Line, f.FromLine, f.ToLine)
				}
				out, _ := originOutcome(f, want)
				lines = append(lines, fmt.Sprintf("%-9s %-11s %-5s %s", name, c.path, rp.name, out))
			}
		}
	}
	return lines, hashes
}

// checkOriginsGolden compares the results with testdata/origin/results.golden,
// which records per build, path and replay path where the failure lands.
func checkOriginsGolden(t *testing.T, lines []string) {
	t.Helper()
	sort.Strings(lines)
	have := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "origin", "results.golden")
	if *updateOrigins {
		if err := os.WriteFile(path, []byte(have), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if have != string(want) {
		t.Errorf("failure origins differ from %s (run with -update-origins to accept):\n%s", path, lineDiff(string(want), have))
	}
	exact := 0
	for _, l := range lines {
		if strings.HasSuffix(l, " ok") {
			exact++
		}
	}
	t.Logf("failure origins: %d of %d on their line", exact, len(lines))
}

func lineDiff(want, have string) string {
	w, h := strings.Split(want, "\n"), strings.Split(have, "\n")
	inW := make(map[string]bool, len(w))
	for _, l := range w {
		inW[l] = true
	}
	inH := make(map[string]bool, len(h))
	for _, l := range h {
		inH[l] = true
	}
	var b strings.Builder
	for _, l := range w {
		if !inH[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range h {
		if !inW[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

func TestFailureOriginsEmbeddedChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an embedded chain")
	}
	h, rc, _ := embeddedChain(t)
	lines, hashes := runOrigins(t, h, replayers(h, true))
	checkOriginsGolden(t, lines)
	t.Run("stepping via-IR code", func(t *testing.T) { testViaIRStepping(t, rc, hashes["viair/require"]) })
}

// testViaIRStepping steps through a via-IR transaction line by line: the
// steps mapped to the whole contract are passed, not stopped at.
func testViaIRStepping(t *testing.T, rc *rpc.Client, tx common.Hash) {
	b := loadOriginBuild(t, "viair")
	dir := t.TempDir()
	if _, err := (&Local{RPC: rc}).Replay(context.Background(), tx, Options{Dir: dir, Sources: b.arts, Names: b.arts}); err != nil {
		t.Fatal(err)
	}
	tr, err := OpenTrace(dir, tx, b.arts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	want := b.truth["require"]
	src, _ := b.arts.Content(want.file)
	contractLine := 1 + strings.Count(src[:strings.Index(src, "contract Origins is")], "\n")
	var stops []int
	reached := false
	for i, n := 0, 0; n < 1000; n++ {
		j, err := tr.StepInto(i)
		if err != nil {
			t.Fatal(err)
		}
		if j <= i || j == tr.Result.Steps-1 {
			break // the end of the trace, where stepping stops whatever its line
		}
		i = j
		s, err := tr.Step(i)
		if err != nil {
			t.Fatal(err)
		}
		if s.Source == nil || s.Source.File == "" {
			t.Fatalf("stopped at step %d with no source line", i)
		}
		stops = append(stops, s.Source.Line)
		if s.Source.File == want.file && s.Source.Line == contractLine {
			t.Errorf("stopped at step %d on the contract's line %d", i, contractLine)
		}
		reached = reached || s.Source.File == want.file && s.Source.Line == want.line
	}
	if !reached {
		t.Errorf("stepping never reached the require on line %d; stopped on lines %v", want.line, stops)
	}
	if _, err := tr.RunToLine(0, want.file, want.line); err != nil {
		t.Errorf("run to the require's line: %v", err)
	}
}

func TestFailureOriginsGethDev(t *testing.T) {
	if testing.Short() {
		t.Skip("starts geth")
	}
	if _, err := gethtest.Find(); err != nil {
		t.Skipf("no geth: %v", err)
	}
	ctx := context.Background()
	node, err := gethtest.Start(ctx, gethtest.Options{Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	rc, err := rpc.Dial(node.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	key, _ := crypto.GenerateKey()
	if err := demo.Fund(ctx, rc, []common.Address{crypto.PubkeyToAddress(key.PublicKey)}, new(big.Int).Lsh(big.NewInt(1), 80)); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, rc, node.URL, key, nil)
	lines, _ := runOrigins(t, h, replayers(h, true))
	checkOriginsGolden(t, lines)
}
