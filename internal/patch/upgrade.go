package patch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/contracts"
)

// checkLayout compares the current implementation's storage layout with
// the new one's and refuses a change that moves or retypes a variable.
func (c *Checker) checkLayout(ctx context.Context, req Request, impl contracts.Artifact, rep *Report) error {
	var oldRaw []byte
	switch {
	case len(req.OldLayout) > 0:
		oldRaw, rep.Layout.From = req.OldLayout, "the layout given"
	default:
		cands := append(append([]contracts.Artifact(nil), req.Old...), req.Artifacts...)
		res, err := contracts.Verify(ctx, c.Node, rep.Current, cands, contracts.Options{})
		if err != nil && !errors.Is(err, contracts.ErrNoArtifacts) {
			return fmt.Errorf("cannot identify the current implementation %s: %w", rep.Current, err)
		}
		if err == nil && res.Status != contracts.StatusNone {
			for _, a := range cands {
				if a.FullName() == res.SourceName+":"+res.ContractName || (a.Name == res.ContractName && a.SourceName == res.SourceName) {
					oldRaw = a.StorageLayout
					break
				}
			}
			rep.Layout.From = fmt.Sprintf("the current implementation %s, verified as %s:%s", rep.Current.Hex(), res.SourceName, res.ContractName)
		}
	}
	if rep.Layout.From == "" && c.Verified != nil {
		if l, name, ok := c.Verified(rep.Current); ok {
			oldRaw = l
			rep.Layout.From = fmt.Sprintf("the current implementation %s, verified earlier as %s", rep.Current.Hex(), name)
		}
	}
	if len(oldRaw) == 0 || string(oldRaw) == "null" {
		if rep.Layout.From == "" {
			rep.Layout.From = fmt.Sprintf("not checked: the current implementation %s matches none of the artifacts; give its build (--old PATH) to check the storage layout", rep.Current.Hex())
		} else {
			rep.Layout.From = "not checked: " + rep.Layout.From + " has no storageLayout in its artifact"
		}
		return nil
	}
	old, err := ParseLayout(oldRaw)
	if err != nil {
		return fmt.Errorf("%w: the old layout: %v", ErrInvalid, err)
	}
	upd, err := ParseLayout(impl.StorageLayout)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, impl.Name, err)
	}
	if errs := CompareLayouts(old, upd); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%w: %s would corrupt the proxy's state: %s (nothing was replayed)", ErrLayoutChange, impl.Name, strings.Join(msgs, "; "))
	}
	rep.Layout.Checked, rep.Layout.Vars = true, len(old.Vars)
	return nil
}

// The upgrade functions, by ABI.
var upgradeABI = mustABI(`[
 {"type":"function","name":"upgradeToAndCall","stateMutability":"payable","inputs":[{"name":"newImplementation","type":"address"},{"name":"data","type":"bytes"}],"outputs":[]},
 {"type":"function","name":"upgradeAndCall","stateMutability":"payable","inputs":[{"name":"proxy","type":"address"},{"name":"implementation","type":"address"},{"name":"data","type":"bytes"}],"outputs":[]},
 {"type":"function","name":"owner","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]}
]`)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return a
}

// prepareUpgrade prepares the upgrade call of a passed check, or says in
// UpgradeNote why there is none.
func (c *Checker) prepareUpgrade(ctx context.Context, rep *Report) error {
	switch {
	case !rep.Passed:
		rep.UpgradeNote = "no upgrade prepared: the check did not pass"
		return nil
	case rep.Kind == "plain":
		rep.UpgradeNote = "no upgrade prepared: " + rep.Target.Hex() + " is not a proxy, so its code cannot be replaced; deploy the new contract and move its users"
		return nil
	case !rep.Deployed:
		rep.UpgradeNote = "no upgrade prepared yet: deploy the new implementation (the artifact's init code; nothing was sent), then run the check again with its address (--deployed ADDRESS) to get the upgrade call"
		return nil
	case c.Prepare == nil:
		rep.UpgradeNote = "no upgrade prepared: this server prepares no calls"
		return nil
	}
	chainID, err := c.Node.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the chain id: %w", err)
	}
	up := &Upgrade{Kind: "uups"}
	to, m := rep.Target, upgradeABI.Methods["upgradeToAndCall"]
	args := []string{rep.Implementation.Hex(), "0x"}
	if rep.Kind == "transparent" && rep.Admin != nil {
		up.Kind = "transparent"
		code, err := c.Node.CodeAt(ctx, *rep.Admin, nil)
		if err != nil {
			return fmt.Errorf("cannot read the proxy's admin %s: %w", rep.Admin, err)
		}
		if len(code) > 0 {
			// A ProxyAdmin contract: its owner calls upgradeAndCall.
			to, m = *rep.Admin, upgradeABI.Methods["upgradeAndCall"]
			args = []string{rep.Target.Hex(), rep.Implementation.Hex(), "0x"}
		} else {
			// An admin account calls the proxy itself.
			a := *rep.Admin
			up.Sender = &a
		}
	}
	if up.Sender == nil {
		if out, err := c.Node.CallContract(ctx, ethereum.CallMsg{To: &to, Data: upgradeABI.Methods["owner"].ID}, nil); err == nil && len(out) == 32 {
			owner := common.BytesToAddress(out[12:])
			up.Sender = &owner
		}
	}
	name := "upgrade " + rep.Target.Hex()[:10] + " to " + rep.Contract
	forms, err := c.Prepare(chainID, to, m, args, name, c.now())
	if err != nil {
		return fmt.Errorf("cannot prepare the upgrade: %w", err)
	}
	up.Prepared = *forms
	if up.Sender == nil && c.Role != nil {
		// No owner() answers: a stranger's call of the upgrade says which
		// role it needs.
		role, holders, err := c.Role(ctx, to, forms.Calldata)
		if err == nil {
			up.Role, up.Holders = role, holders
			if len(holders) == 1 {
				h := holders[0]
				up.Sender = &h
			}
		}
	}
	rep.Upgrade = up
	return nil
}
