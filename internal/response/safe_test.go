package response_test

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// TestSafePause pauses the demo vault through a real Safe 2-of-3 (the
// pinned @safe-global/safe-contracts, deployed by the demo and granted
// PAUSER_ROLE), on the embedded chain and on a real geth --dev: the pause
// is proposed, its SafeTx hash is the one the Safe computes, one owner's
// signature is not enough and nothing is sent, a stranger's signature is
// refused, and the second owner's lets the executor's execTransaction
// pause the vault.
func TestSafePause(t *testing.T) { chains(t, testSafePause) }

func testSafePause(t *testing.T, r *rig) {
	ctx := testContext(t)
	owners := demo.SafeOwnerKeys()
	safe, err := demo.DeploySafe(ctx, r.ec, r.keys[demo.Deployer], demo.Addresses(owners), demo.SafeThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.app.GrantPauser(ctx, r.ec, r.keys[demo.Deployer], safe); err != nil {
		t.Fatal(err)
	}
	// The executor is any funded account: here the liquidator, who holds
	// no role on the vault.
	executor := response.NewKeySigner(r.keys[demo.Liquidator], "test")
	svc := r.service(executor, nil)
	svc.Safe = safe
	pauseID := r.app.Vault.Hex() + ":pause()"

	st := svc.Status(ctx)
	if st.Safe == nil || st.Safe.Threshold != 2 || len(st.Safe.Owners) != 3 || st.Safe.Nonce != 0 || st.Safe.Error != "" {
		t.Fatalf("Safe status: %+v", st.Safe)
	}
	p, err := svc.ProposeSafe(ctx, pauseID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Simulation.Reverted || len(p.Simulation.Events) == 0 || p.Simulation.Events[0].Name != "Paused" {
		t.Errorf("the pause simulated from the Safe: %+v", p.Simulation)
	}
	// The hash owners sign is the Safe's own.
	safeABI := `[{"type":"function","name":"getTransactionHash","stateMutability":"view","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"},{"name":"data","type":"bytes"},{"name":"operation","type":"uint8"},{"name":"safeTxGas","type":"uint256"},{"name":"baseGas","type":"uint256"},{"name":"gasPrice","type":"uint256"},{"name":"gasToken","type":"address"},{"name":"refundReceiver","type":"address"},{"name":"_nonce","type":"uint256"}],"outputs":[{"name":"","type":"bytes32"}]}]`
	var onChain common.Hash
	callView(t, ctx, r, safe, safeABI, "getTransactionHash", &onChain, r.app.Vault, new(big.Int), []byte(p.Data), uint8(0), new(big.Int), new(big.Int), new(big.Int), common.Address{}, common.Address{}, new(big.Int))
	if onChain != p.Hash {
		t.Fatalf("SafeTx hash %s, the Safe computes %s", p.Hash, onChain)
	}
	again, err := svc.ProposeSafe(ctx, pauseID, nil)
	if err != nil || again.Hash != p.Hash {
		t.Fatalf("proposing again: %v %+v", err, again)
	}

	if _, err := svc.SignSafe(ctx, p.Hash, response.NewKeySigner(owners[0], "owner 0")); err != nil {
		t.Fatal(err)
	}
	nonce, _ := r.ec.PendingNonceAt(ctx, executor.Address())
	_, err = svc.ExecuteSafe(ctx, p.Hash, response.SendOptions{})
	if !errors.Is(err, response.ErrBelowThreshold) || !strings.Contains(err.Error(), "needs 2 owner signatures and has 1") {
		t.Fatalf("execute with one signature: %v", err)
	}
	if n, _ := r.ec.PendingNonceAt(ctx, executor.Address()); n != nonce || r.paused(t) {
		t.Fatalf("something was sent below the threshold (nonce %d → %d)", nonce, n)
	}
	stranger := response.NewKeySigner(r.keys[demo.Attacker], "stranger")
	if _, err := svc.SignSafe(ctx, p.Hash, stranger); !errors.Is(err, response.ErrInvalid) || !strings.Contains(err.Error(), "not an owner") {
		t.Errorf("a stranger's signature: %v", err)
	}
	bad := make([]byte, 65)
	bad[64] = 1
	if _, err := svc.AddSafeSignature(ctx, p.Hash, bad); !errors.Is(err, response.ErrInvalid) {
		t.Errorf("a signature with v 1: %v", err)
	}
	if _, err := svc.SignSafe(ctx, p.Hash, response.NewKeySigner(owners[2], "owner 2")); err != nil {
		t.Fatal(err)
	}
	sent, err := svc.ExecuteSafe(ctx, p.Hash, response.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Mined || sent.Status != 1 || sent.From != executor.Address() || !r.paused(t) {
		t.Fatalf("executed: %+v, paused %t", sent, r.paused(t))
	}
	// Executed once: asking again sends nothing.
	if _, err := svc.ExecuteSafe(ctx, p.Hash, response.SendOptions{}); !errors.Is(err, response.ErrStale) {
		t.Errorf("executing twice: %v", err)
	}
	if st := svc.Status(ctx); st.Safe.Nonce != 1 {
		t.Errorf("the Safe's nonce after the execution: %d", st.Safe.Nonce)
	}
}

// callView calls a view function of contract with a one-value result.
func callView(t *testing.T, ctx context.Context, r *rig, contract common.Address, abiJSON, method string, out *common.Hash, args ...any) {
	t.Helper()
	parsed, err := abiFromJSON(abiJSON)
	if err != nil {
		t.Fatal(err)
	}
	data, err := parsed.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.ec.CallContract(ctx, ethereum.CallMsg{To: &contract, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := parsed.Unpack(method, res)
	if err != nil {
		t.Fatal(err)
	}
	*out = vals[0].([32]byte)
}

func abiFromJSON(s string) (abi.ABI, error) { return abi.JSON(strings.NewReader(s)) }

// TestSafeProposalsSurviveRestart keeps a proposal and its signatures in a
// real SQLite file: proposed and signed once, the server restarts (the
// database closed and opened again, a new service with an empty memory),
// the proposal is listed with its signature, the second owner signs and
// the Safe pauses the vault; after another restart the proposal is known
// as executed and is not sent again.
func TestSafeProposalsSurviveRestart(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	owners := demo.SafeOwnerKeys()
	safe, err := demo.DeploySafe(ctx, r.ec, r.keys[demo.Deployer], demo.Addresses(owners), demo.SafeThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.app.GrantPauser(ctx, r.ec, r.keys[demo.Deployer], safe); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "blocktorch.db")
	// start is a server start: the database opened, a service on it.
	start := func() (*response.Service, func()) {
		t.Helper()
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		svc := r.service(response.NewKeySigner(r.keys[demo.Liquidator], "test"), nil)
		svc.Safe, svc.History, svc.Proposals = safe, db, db
		return svc, func() {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}

	svc, stop := start()
	p, err := svc.ProposeSafe(ctx, r.app.Vault.Hex()+":pause()", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignSafe(ctx, p.Hash, response.NewKeySigner(owners[0], "owner 0")); err != nil {
		t.Fatal(err)
	}
	stop()

	svc, stop = start()
	kept, err := svc.SafeProposals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Hash != p.Hash || len(kept[0].Signatures) != 1 || kept[0].Signatures[0].Owner != demo.Addresses(owners)[0] ||
		kept[0].Action.Function != "pause()" || kept[0].Simulation == nil || kept[0].Simulation.Reverted || !kept[0].Created.Equal(p.Created) {
		t.Fatalf("after a restart: %+v", kept)
	}
	if _, err := svc.ExecuteSafe(ctx, p.Hash, response.SendOptions{}); !errors.Is(err, response.ErrBelowThreshold) {
		t.Fatalf("execute with the one kept signature: %v", err)
	}
	if _, err := svc.SignSafe(ctx, p.Hash, response.NewKeySigner(owners[1], "owner 1")); err != nil {
		t.Fatal(err)
	}
	sent, err := svc.ExecuteSafe(ctx, p.Hash, response.SendOptions{})
	if err != nil || !sent.Mined || sent.Status != 1 || !r.paused(t) {
		t.Fatalf("executed after a restart: %v %+v", err, sent)
	}
	stop()

	svc, stop = start()
	defer stop()
	again, err := svc.SafeProposal(ctx, p.Hash)
	if err != nil || again.Executed != sent.Hash || len(again.Signatures) != 2 {
		t.Fatalf("the executed proposal after a restart: %v %+v", err, again)
	}
	if _, err := svc.ExecuteSafe(ctx, p.Hash, response.SendOptions{}); !errors.Is(err, response.ErrStale) {
		t.Errorf("executing it again after a restart: %v", err)
	}
	if _, err := svc.SafeProposal(ctx, common.Hash{1}); !errors.Is(err, response.ErrNotFound) {
		t.Errorf("an unknown proposal: %v", err)
	}
}
