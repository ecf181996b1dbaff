package response_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
)

// TestActions finds the vault's and the price feed's emergency actions,
// with the role each needs and its holders read from the chain, and
// follows a grant and a revocation.
func TestActions(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	svc := r.service(nil, nil)
	deployer := r.app.Deployer
	pauserRole := crypto.Keccak256Hash([]byte("PAUSER_ROLE"))

	summary := func(as []response.Action) []string {
		var out []string
		for _, a := range as {
			out = append(out, fmt.Sprintf("%s %s %v needs %s:%s %v", a.Kind, a.Function, a.Args, a.Role.Kind, a.Role.Name, a.Role.Holders))
		}
		return out
	}
	check := func(addr common.Address, want []string) {
		t.Helper()
		got, err := svc.Actions(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		if s := summary(got); !slices.Equal(s, want) {
			t.Errorf("actions of %s:\n got %s\nwant %s", addr, strings.Join(s, "\n     "), strings.Join(want, "\n     "))
		}
	}
	d := deployer.Hex()
	zero := common.Hash{}.Hex()
	check(r.app.Vault, []string{
		fmt.Sprintf("pause pause() [] needs role:PAUSER_ROLE [%s]", d),
		fmt.Sprintf("unpause unpause() [] needs role:PAUSER_ROLE [%s]", d),
		fmt.Sprintf("revoke-role revokeRole(bytes32,address) [%s %s] needs role:DEFAULT_ADMIN_ROLE [%s]", zero, d, d),
		fmt.Sprintf("revoke-role revokeRole(bytes32,address) [%s %s] needs role:DEFAULT_ADMIN_ROLE [%s]", pauserRole.Hex(), d, d),
	})

	// A second pauser appears, then the first loses the role.
	second := r.keys[demo.Liquidator]
	secondAddr := crypto.PubkeyToAddress(second.PublicKey)
	grant, _ := r.vault.Pack("grantRole", pauserRole, secondAddr)
	if rec := r.send(t, r.keys[demo.Deployer], r.app.Vault, grant); rec.Status != 1 {
		t.Fatal("grantRole failed")
	}
	revoke, _ := r.vault.Pack("revokeRole", pauserRole, deployer)
	if rec := r.send(t, r.keys[demo.Deployer], r.app.Vault, revoke); rec.Status != 1 {
		t.Fatal("revokeRole failed")
	}
	s := secondAddr.Hex()
	check(r.app.Vault, []string{
		fmt.Sprintf("pause pause() [] needs role:PAUSER_ROLE [%s]", s),
		fmt.Sprintf("unpause unpause() [] needs role:PAUSER_ROLE [%s]", s),
		fmt.Sprintf("revoke-role revokeRole(bytes32,address) [%s %s] needs role:DEFAULT_ADMIN_ROLE [%s]", zero, d, d),
		fmt.Sprintf("revoke-role revokeRole(bytes32,address) [%s %s] needs role:DEFAULT_ADMIN_ROLE [%s]", pauserRole.Hex(), s, d),
	})

	// An owner-only function marked as emergency needs the owner.
	svc = r.service(nil, map[common.Address][]string{r.app.Feed: {"updateAnswer"}})
	got, err := svc.Actions(ctx, r.app.Feed)
	if err != nil {
		t.Fatal(err)
	}
	if s := summary(got); !slices.Equal(s, []string{fmt.Sprintf("marked updateAnswer(int256) [] needs owner:owner [%s]", d)}) {
		t.Errorf("feed actions: %s", s)
	}
	if _, err := r.service(nil, map[common.Address][]string{r.app.Feed: {"nosuch"}}).Actions(ctx, r.app.Feed); !errors.Is(err, response.ErrInvalid) {
		t.Errorf("unknown emergency function: %v", err)
	}
	if _, err := svc.Actions(ctx, common.HexToAddress("0x1234")); !errors.Is(err, response.ErrNotFound) {
		t.Errorf("unwatched contract: %v", err)
	}
}
