package response_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
)

// TestPauseForms prepares the vault's pause, simulates it, and pauses the
// vault three ways, on the embedded chain and on a real geth --dev: the
// calldata sent by its pauser, the signed transaction published as it is,
// and a send through the service.
func TestPauseForms(t *testing.T) { chains(t, testPauseForms) }

func testPauseForms(t *testing.T, r *rig) {
	ctx := testContext(t)
	keyHex := hex.EncodeToString(crypto.FromECDSA(r.keys[demo.Deployer]))
	signer, err := response.LoadSigner(response.SignerConfig{KeyEnv: "PAUSER_KEY"}, func(name string) string {
		if name == "PAUSER_KEY" {
			return "0x" + keyHex
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := r.service(signer, nil)
	pauseID := r.app.Vault.Hex() + ":pause()"
	unpauseID := r.app.Vault.Hex() + ":unpause()"

	p, err := svc.Prepare(ctx, pauseID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := hexutil.Encode(p.Calldata); got != "0x8456cb59" {
		t.Errorf("calldata %s, want pause()'s selector 0x8456cb59", got)
	}
	if want := `cast send --rpc-url "$ETH_RPC_URL" ` + r.app.Vault.Hex() + ` 'pause()'`; p.Cast != want {
		t.Errorf("cast line\n got %s\nwant %s", p.Cast, want)
	}
	if p.SimulatedFrom != r.app.Deployer || p.Simulation.Reverted {
		t.Fatalf("simulation from %s reverted=%t (%s)", p.SimulatedFrom, p.Simulation.Reverted, p.Simulation.Reason)
	}
	if !slices.ContainsFunc(p.Simulation.Events, func(e response.SimEvent) bool { return e.Name == "Paused" && e.Address == r.app.Vault }) {
		t.Errorf("the simulation shows no Paused event: %+v", p.Simulation.Events)
	}
	if len(p.Simulation.Changes) == 0 {
		t.Errorf("the simulation shows no state change")
	}
	batch, err := response.ParseBatch(p.SafeBatch)
	if err != nil {
		t.Fatalf("the Safe batch does not parse: %v\n%s", err, p.SafeBatch)
	}
	if tx := batch.Transactions[0]; tx.To != r.app.Vault.Hex() || tx.ContractMethod == nil || tx.ContractMethod.Name != "pause" || batch.ChainID != r.chainID.String() {
		t.Errorf("Safe batch: %s", p.SafeBatch)
	}
	if p.Signed == nil || p.Signed.From != r.app.Deployer {
		t.Fatalf("signed: %+v", p.Signed)
	}

	// 1. The calldata, sent by the pauser.
	if rec := r.send(t, r.keys[demo.Deployer], r.app.Vault, p.Calldata); rec.Status != 1 || !r.paused(t) {
		t.Fatalf("the calldata did not pause the vault (status %d)", rec.Status)
	}
	// Pausing again would revert: the simulation says why, and the send is
	// refused without sending anything.
	nonce, _ := r.ec.PendingNonceAt(ctx, r.app.Deployer)
	sent, err := svc.Send(ctx, pauseID, nil, response.SendOptions{})
	if !errors.Is(err, response.ErrWouldRevert) || sent == nil || !strings.Contains(sent.Simulation.Reason, "EnforcedPause") {
		t.Fatalf("pausing a paused vault: %v (%+v)", err, sent)
	}
	if after, _ := r.ec.PendingNonceAt(ctx, r.app.Deployer); after != nonce {
		t.Fatalf("a refused send moved the nonce from %d to %d", nonce, after)
	}

	// 2. The signed transaction of a prepared unpause, published as is.
	p, err = svc.Prepare(ctx, unpauseID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.rc.CallContext(ctx, nil, "eth_sendRawTransaction", p.Signed.Raw); err != nil {
		t.Fatal(err)
	}
	if rec := r.receipt(t, p.Signed.Hash); rec.Status != 1 || r.paused(t) {
		t.Fatalf("the signed unpause did not unpause (status %d)", rec.Status)
	}

	// 3. A send through the service.
	sent, err = svc.Send(ctx, pauseID, nil, response.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Mined || sent.Status != 1 || !r.paused(t) {
		t.Fatalf("sent %+v; paused %t", sent, r.paused(t))
	}
	// Forced, a reverting send is sent and reported failed.
	sent, err = svc.Send(ctx, pauseID, nil, response.SendOptions{Force: true})
	if err == nil || !sent.Mined || sent.Status != 0 || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("forced pause of a paused vault: %v (%+v)", err, sent)
	}
}

// TestSignerRefusals: a signer without the role, a signer without funds,
// and no signer at all are each a clear error with nothing sent.
func TestSignerRefusals(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	pauseID := r.app.Vault.Hex() + ":pause()"

	stranger := response.NewKeySigner(r.keys[demo.FirstUser], "test")
	sent, err := r.service(stranger, nil).Send(ctx, pauseID, nil, response.SendOptions{})
	if !errors.Is(err, response.ErrWouldRevert) || !strings.Contains(sent.Simulation.Reason, "AccessControlUnauthorizedAccount") {
		t.Fatalf("a stranger's pause: %v", err)
	}

	// A pauser with no ether.
	poorKey, _ := crypto.GenerateKey()
	poor := crypto.PubkeyToAddress(poorKey.PublicKey)
	grant, _ := r.vault.Pack("grantRole", crypto.Keccak256Hash([]byte("PAUSER_ROLE")), poor)
	r.send(t, r.keys[demo.Deployer], r.app.Vault, grant)
	_, err = r.service(response.NewKeySigner(poorKey, "test"), nil).Send(ctx, pauseID, nil, response.SendOptions{})
	if !errors.Is(err, response.ErrInsufficientFunds) {
		t.Fatalf("a pauser without funds: %v", err)
	}
	if n, _ := r.ec.PendingNonceAt(ctx, poor); n != 0 || r.paused(t) {
		t.Fatalf("something was sent: nonce %d, paused %t", n, r.paused(t))
	}

	if _, err := r.service(nil, nil).Send(ctx, pauseID, nil, response.SendOptions{}); !errors.Is(err, response.ErrNoSigner) {
		t.Fatalf("no signer: %v", err)
	}
	if _, err := r.service(nil, nil).Prepare(ctx, r.app.Vault.Hex()+":nosuch()", nil); !errors.Is(err, response.ErrNotFound) {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := r.service(nil, nil).Prepare(ctx, "pause", nil); !errors.Is(err, response.ErrInvalid) {
		t.Fatalf("bad id: %v", err)
	}
}

// TestKeystoreSigner reads the pauser from an encrypted keystore file and
// pauses the vault with it; key and password files others may read are
// refused, and the key appears in no printed or encoded form.
func TestKeystoreSigner(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	dir := t.TempDir()
	key := r.keys[demo.Deployer]
	ks := keystore.NewKeyStore(filepath.Join(dir, "ks"), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.ImportECDSA(key, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := response.SignerConfig{KeystoreFile: acct.URL.Path, PasswordFile: pw}

	if err := os.Chmod(acct.URL.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := response.LoadSigner(cfg, os.Getenv); !errors.Is(err, response.ErrKeyFile) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable keystore: %v", err)
	}
	if err := os.Chmod(acct.URL.Path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pw, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := response.LoadSigner(cfg, os.Getenv); !errors.Is(err, response.ErrKeyFile) {
		t.Fatalf("a group-readable password file: %v", err)
	}
	if err := os.Chmod(pw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := response.LoadSigner(response.SignerConfig{KeystoreFile: acct.URL.Path, PasswordEnv: "PW"}, func(string) string { return "wrong" }); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("a wrong password: %v", err)
	}
	signer, err := response.LoadSigner(cfg, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	keyHex := hex.EncodeToString(crypto.FromECDSA(key))
	enc, _ := json.Marshal(map[string]any{"signer": signer})
	for _, text := range []string{fmt.Sprint(signer), fmt.Sprintf("%+v", signer), fmt.Sprintf("%#v", signer), fmt.Sprintf("%v", *signer), string(enc)} {
		if strings.Contains(strings.ToLower(text), keyHex) {
			t.Fatalf("the key shows in %q", text)
		}
	}
	sent, err := r.service(signer, nil).Send(ctx, r.app.Vault.Hex()+":pause()", nil, response.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sent.From != r.app.Deployer || !r.paused(t) {
		t.Fatalf("sent %+v; paused %t", sent, r.paused(t))
	}
}
