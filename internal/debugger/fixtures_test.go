package debugger

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
)

// The fixtures are go-ethereum's own call tracer tests: real mainnet
// transactions with their pre-state and the call frames go-ethereum's
// callTracer produced. Each is replayed through the local path, with the
// fixture's allocation standing in for the node, and the call tree is
// compared field by field.

type fixtureLog struct {
	Address  common.Address `json:"address"`
	Topics   []common.Hash  `json:"topics"`
	Data     hexutil.Bytes  `json:"data"`
	Index    hexutil.Uint   `json:"index"`
	Position hexutil.Uint   `json:"position"`
}

type fixtureFrame struct {
	From         common.Address  `json:"from"`
	Gas          *hexutil.Uint64 `json:"gas"`
	GasUsed      *hexutil.Uint64 `json:"gasUsed"`
	To           *common.Address `json:"to,omitempty"`
	Input        hexutil.Bytes   `json:"input"`
	Output       hexutil.Bytes   `json:"output,omitempty"`
	Error        string          `json:"error,omitempty"`
	RevertReason string          `json:"revertReason,omitempty"`
	Calls        []fixtureFrame  `json:"calls,omitempty"`
	Logs         []fixtureLog    `json:"logs,omitempty"`
	Value        *hexutil.Big    `json:"value,omitempty"`
	Type         string          `json:"type"`
}

type fixtureContext struct {
	Number     math.HexOrDecimal64   `json:"number"`
	Difficulty *math.HexOrDecimal256 `json:"difficulty"`
	Time       math.HexOrDecimal64   `json:"timestamp"`
	GasLimit   math.HexOrDecimal64   `json:"gasLimit"`
	Miner      common.Address        `json:"miner"`
	BaseFee    *math.HexOrDecimal256 `json:"baseFeePerGas"`
}

type fixture struct {
	Genesis      *core.Genesis   `json:"genesis"`
	Context      *fixtureContext `json:"context"`
	Input        string          `json:"input"`
	TracerConfig json.RawMessage `json:"tracerConfig"`
	Result       *fixtureFrame   `json:"result"`
}

func fixtureDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ethereum/go-ethereum").Output()
	if err != nil {
		t.Fatalf("cannot locate go-ethereum in the module cache: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "eth/tracers/internal/tracetest/testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("go-ethereum's tracer fixtures are not in the module cache: %v", err)
	}
	return dir
}

// replayFixture runs a fixture's transaction through the local engine.
func replayFixture(t *testing.T, fx *fixture) *Result {
	t.Helper()
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(common.FromHex(fx.Input)); err != nil {
		t.Fatalf("cannot decode the fixture's transaction: %v", err)
	}
	cfg := fx.Genesis.Config
	header := &types.Header{
		Number: new(big.Int).SetUint64(uint64(fx.Context.Number)), Time: uint64(fx.Context.Time),
		GasLimit: uint64(fx.Context.GasLimit), Coinbase: fx.Context.Miner, Difficulty: (*big.Int)(fx.Context.Difficulty),
	}
	eng, err := newEngine(cfg, header, newLazyReader(allocFetcher(fx.Genesis.Alloc)), func(uint64) common.Hash { return common.Hash{} })
	if err != nil {
		t.Fatal(err)
	}
	// The block context exactly as go-ethereum's tracer tests build it.
	eng.blockCtx.Random = nil
	if cfg.TerminalTotalDifficulty != nil && cfg.TerminalTotalDifficulty.Sign() == 0 {
		eng.blockCtx.Random = &fx.Genesis.Mixhash
	}
	eng.blockCtx.BaseFee = nil
	if cfg.IsLondon(header.Number) {
		eng.blockCtx.BaseFee = (*big.Int)(fx.Context.BaseFee)
	}
	if fx.Genesis.ExcessBlobGas != nil && fx.Genesis.BlobGasUsed != nil {
		h := &types.Header{Number: cfg.LondonBlock, Time: *cfg.CancunTime}
		excess := eip4844.CalcExcessBlobGas(cfg, h, fx.Genesis.Timestamp)
		h.ExcessBlobGas = &excess
		eng.blockCtx.BlobBaseFee = eip4844.CalcBlobFee(cfg, h)
	}
	eng.gp = nil
	msg, err := core.TransactionToMessage(tx, eng.signer, eng.blockCtx.BaseFee)
	if err != nil {
		t.Fatalf("cannot make a message of the fixture's transaction: %v", err)
	}
	res := &Result{TxHash: tx.Hash(), BlockNumber: header.Number.Uint64(), Mode: ModeLocal, From: msg.From}
	out, err := eng.trace(tx, msg, 0, res, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("replay failed: %v", err)
	}
	return out
}

// asFixture renders our frame the way callTracer does.
func asFixture(f *Frame, events []Event, withLog bool) fixtureFrame {
	gas, used := hexutil.Uint64(f.Gas), hexutil.Uint64(f.GasUsed)
	out := fixtureFrame{
		From: f.From, Gas: &gas, GasUsed: &used, To: f.To, Input: f.Input, Output: f.Output,
		Error: f.Error, RevertReason: f.RevertReason, Value: f.Value, Type: f.Type,
	}
	if len(out.Input) == 0 {
		out.Input = hexutil.Bytes{}
	}
	for _, c := range f.Calls {
		out.Calls = append(out.Calls, asFixture(c, events, withLog))
	}
	if withLog && !f.Reverted {
		for _, e := range events {
			if e.FrameID == f.ID {
				out.Logs = append(out.Logs, fixtureLog{Address: e.Address, Topics: e.Topics, Data: e.Data, Index: hexutil.Uint(e.LogIndex), Position: hexutil.Uint(e.Position)})
			}
		}
	}
	return out
}

// diffFrames lists the fields where have and want differ, by path.
func diffFrames(path string, have, want fixtureFrame) []string {
	var d []string
	hv, wv := reflect.ValueOf(have), reflect.ValueOf(want)
	for i := 0; i < hv.NumField(); i++ {
		name := hv.Type().Field(i).Name
		if name == "Calls" {
			continue
		}
		hj, _ := json.Marshal(hv.Field(i).Interface())
		wj, _ := json.Marshal(wv.Field(i).Interface())
		if name == "Logs" && len(have.Logs) == 0 && len(want.Logs) == 0 {
			continue
		}
		if string(hj) != string(wj) {
			d = append(d, fmt.Sprintf("%s.%s: have %s, want %s", path, name, hj, wj))
		}
	}
	if len(have.Calls) != len(want.Calls) {
		return append(d, fmt.Sprintf("%s: have %d calls, want %d", path, len(have.Calls), len(want.Calls)))
	}
	for i := range have.Calls {
		d = append(d, diffFrames(fmt.Sprintf("%s.calls[%d]", path, i), have.Calls[i], want.Calls[i])...)
	}
	return d
}

// gethCallTracerFixtures is how many fixtures go-ethereum v1.17.10 ships in
// the three directories: a fixture lost to a moved directory or a bad glob
// fails the test instead of shrinking it.
const gethCallTracerFixtures = 37

func TestGethCallTracerFixtures(t *testing.T) {
	root := fixtureDir(t)
	total, passed := 0, 0
	var failures []string
	for _, dir := range []string{"call_tracer", "call_tracer_withLog", "call_tracer_legacy"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s: %v", dir, err)
		}
		sort.Strings(files)
		for _, file := range files {
			name := dir + "/" + strings.TrimSuffix(filepath.Base(file), ".json")
			total++
			ok := t.Run(name, func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				fx := new(fixture)
				if err := json.Unmarshal(raw, fx); err != nil {
					t.Fatalf("cannot decode fixture: %v", err)
				}
				var cfg struct {
					WithLog     bool `json:"withLog"`
					OnlyTopCall bool `json:"onlyTopCall"`
				}
				if len(fx.TracerConfig) > 0 {
					json.Unmarshal(fx.TracerConfig, &cfg)
				}
				res := replayFixture(t, fx)
				have := asFixture(res.Root, res.Events, cfg.WithLog)
				if cfg.OnlyTopCall {
					have.Calls = nil
				}
				if strings.HasSuffix(dir, "_legacy") {
					legacyView(&have, true)
				}
				if d := diffFrames("root", have, *fx.Result); len(d) > 0 {
					t.Errorf("call tree differs from go-ethereum's:\n%s", strings.Join(d, "\n"))
				}
			})
			if ok {
				passed++
			} else {
				failures = append(failures, name)
			}
		}
	}
	t.Logf("go-ethereum call tracer fixtures: %d of %d pass", passed, total)
	if len(failures) > 0 {
		t.Logf("failing: %s", strings.Join(failures, ", "))
	}
	if total != gethCallTracerFixtures || passed != total {
		t.Errorf("%d of %d fixtures pass, want all %d", passed, total, gethCallTracerFixtures)
	}
}

// legacyInternalFailures are the errors go-ethereum's call machinery raises
// around a frame (not an opcode inside it), which the legacy tracer
// reported as "internal failure".
var legacyInternalFailures = []error{vm.ErrInsufficientBalance, vm.ErrCodeStoreOutOfGas, vm.ErrDepth,
	vm.ErrContractAddressCollision, vm.ErrMaxCodeSizeExceeded, vm.ErrInvalidCode, vm.ErrNonceUintOverflow}

// legacyView renders our frame the way go-ethereum's legacy JavaScript
// call tracer reported it, which its legacy fixtures record. It reads only
// our own frame, never the expected one: an inner call that ran no code
// (a transfer to an account without code, a call that failed before
// running, a self-destruct) carries no gas, an inner call refused by the
// call machinery rather than by an opcode it ran says "internal failure",
// a DELEGATECALL carries no value, and revert reasons are not decoded.
func legacyView(f *fixtureFrame, root bool) {
	if !root && slices.ContainsFunc(legacyInternalFailures, func(e error) bool { return e.Error() == f.Error }) {
		f.Error = "internal failure"
	}
	if !root && f.GasUsed != nil && *f.GasUsed == 0 {
		f.Gas, f.GasUsed = nil, nil
	}
	if f.Type == "DELEGATECALL" {
		f.Value = nil
	}
	f.RevertReason = ""
	for i := range f.Calls {
		legacyView(&f.Calls[i], false)
	}
}
