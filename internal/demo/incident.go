package demo

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// crashSteps are the successive price moves of the crash, in percent: together −59.7%.
var crashSteps = []int64{80, 70, 80, 90}

// Incident plays a scripted incident on the app with the traffic's accounts; the traffic may
// keep running meanwhile (it holds back what the incident would disturb). The phases:
//
//  1. leverage: a few users borrow close to their limit through the router;
//  2. stale oracle: feed updates stop until the vault's staleness limit passes; borrows and a
//     liquidation then revert with StalePrice, and are tried again in the next two blocks; a
//     router deposit-and-borrow succeeds with the borrow skipped (BorrowSkipped carrying the
//     StalePrice error);
//  3. crash: the price falls about 60% in four updates, one per block;
//  4. liquidation wave: the liquidator liquidates the positions under water (they succeed), a
//     healthy one (reverts: "Vault: account is healthy") and one without debt (reverts with
//     Panic(0x12)); then a late liquidator repeats an already liquidated account (Panic(0x12));
//  5. exploit: the attacker deploys Attacker and tries re-entering withdraw (reverts with
//     ReentrancyGuardReentrantCall), pausing the vault and pushing a price, from the contract
//     and from its own account (all revert: missing role, not owner); then it goes for the
//     lagging feed (Exploit): the market has crashed further than the feed's last answer,
//     so it deposits ETH the vault values at that answer and borrows 30% of the vault's
//     liquidity against it, more than the ETH is worth. The vault allows it and loses the
//     difference; with a mempool guard (Options.Guarded) the guard sees the borrow in the
//     pool, pauses the vault ahead of it, and the exploit reverts with EnforcedPause;
//  6. response: the owner pauses the vault (unless the guard did), a user's deposit reverts
//     with EnforcedPause, and the owner unpauses.
//
// Each phase waits until its transactions are mined, so someone must be producing blocks.
// Incident returns when the script is done or ctx ends.
func (t *Traffic) Incident(ctx context.Context) error {
	levered, err := t.leverUp(ctx)
	if err != nil {
		return fmt.Errorf("incident, leverage: %w", err)
	}
	defer t.endIncident(levered)
	if err := t.staleOracle(ctx, levered); err != nil {
		return fmt.Errorf("incident, stale oracle: %w", err)
	}
	if err := t.crash(ctx); err != nil {
		return fmt.Errorf("incident, price crash: %w", err)
	}
	if err := t.liquidationWave(ctx); err != nil {
		return fmt.Errorf("incident, liquidation wave: %w", err)
	}
	if err := t.exploit(ctx); err != nil {
		return fmt.Errorf("incident, exploit attempts: %w", err)
	}
	guardPaused, err := t.drain(ctx)
	if err != nil {
		return fmt.Errorf("incident, exploit: %w", err)
	}
	if err := t.pauseResponse(ctx, guardPaused); err != nil {
		return fmt.Errorf("incident, pause: %w", err)
	}
	return nil
}

// phase sends a group of transactions under the generator's lock, then waits for them.
func (t *Traffic) phase(ctx context.Context, plan func(b batch) ([]*types.Transaction, error)) ([]*types.Receipt, error) {
	t.mu.Lock()
	b, err := t.newBatch(ctx)
	var txs []*types.Transaction
	if err == nil {
		txs, err = plan(b)
	}
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return waitAll(ctx, t.backend, txs)
}

// free hands positions back to the traffic.
func (t *Traffic) free(accounts []*account) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range accounts {
		a.busy = false
	}
}

// endIncident restores normal traffic, however the incident ended.
func (t *Traffic) endIncident(levered []*account) {
	t.free(levered)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.oracleHeld, t.stale, t.paused, t.pauseSure = false, false, false, false
}

// leverUp has up to three users deposit 2 ETH each and borrow 93% of their limit. Their
// positions stay busy (out of the traffic's hands) until the liquidation wave.
func (t *Traffic) leverUp(ctx context.Context) ([]*account, error) {
	var levered []*account
	_, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		var txs []*types.Transaction
		for _, u := range t.users[:min(3, len(t.users)-1)] {
			extra := new(big.Int).Mul(big.NewInt(2), ether)
			collateral := new(big.Int).Add(u.collateral, extra)
			amount := new(big.Int).Sub(pct(t.maxBorrow(collateral), 93), u.debt)
			if amount.Cmp(dollars(10)) < 0 {
				continue
			}
			tx, err := t.sendTx(b, u, &t.app.Router, extra, t.app.pack("Router", "depositAndBorrow", amount), gasRouter, "router.depositAndBorrow", NoFailure)
			if err != nil {
				return nil, err
			}
			u.busy = true
			u.collateral.Set(collateral)
			u.debt.Add(u.debt, amount)
			u.tokens.Add(u.tokens, amount)
			levered = append(levered, u)
			txs = append(txs, tx)
		}
		return txs, nil
	})
	return levered, err
}

// staleOracle holds the feed until the vault refuses its answer, then sends the attempts
// that run into the stale price.
func (t *Traffic) staleOracle(ctx context.Context, levered []*account) error {
	t.mu.Lock()
	t.oracleHeld = true
	inFlight := t.oracleTx
	t.mu.Unlock()
	if inFlight != (common.Hash{}) {
		if _, err := waitMined(ctx, t.backend, inFlight); err != nil {
			return err
		}
	}
	var maxAge *big.Int
	if err := t.call(ctx, nil, &maxAge, t.app.Vault, "LendingVault", "maxPriceAge"); err != nil {
		return err
	}
	if err := t.waitStale(ctx, maxAge.Uint64()); err != nil {
		return err
	}

	// Users and the liquidator's bot retry what their dApp showed as an error, a
	// block apart, the users asking for less each time: a stale feed is a burst
	// of failures, which the failure-rate monitor must see above normal traffic's.
	for wave, amount := range []int64{500, 250, 100} {
		_, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
			t.stale = true
			var txs []*types.Transaction
			add := func(tx *types.Transaction, err error) error {
				txs = append(txs, tx)
				return err
			}
			for _, u := range t.users[len(t.users)-2:] {
				if err := add(t.sendTx(b, u, &t.app.Vault, nil, t.app.pack("LendingVault", "borrow", dollars(amount)), gasVault, "borrow", FailStalePrice)); err != nil {
					return nil, err
				}
			}
			if len(levered) > 0 {
				if err := add(t.sendTx(b, t.liquidator, &t.app.Vault, nil, t.app.pack("LendingVault", "liquidate", levered[0].addr), gasVault, "liquidate", FailStalePrice)); err != nil {
					return nil, err
				}
			}
			if wave > 0 {
				return txs, nil
			}
			u := t.users[len(t.users)-1]
			extra := new(big.Int).Div(ether, big.NewInt(2))
			if err := add(t.sendTx(b, u, &t.app.Router, extra, t.app.pack("Router", "depositAndTryBorrow", dollars(500)), gasRouter, "router.depositAndTryBorrow", NoFailure)); err != nil {
				return nil, err
			}
			u.collateral.Add(u.collateral, extra)
			return txs, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// waitStale polls the head until its timestamp is past the feed's last update by more than
// maxAge seconds, so that every later block refuses the price.
func (t *Traffic) waitStale(ctx context.Context, maxAge uint64) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		head, err := t.backend.HeaderByNumber(ctx, nil)
		if err != nil {
			return fmt.Errorf("cannot read the latest header: %w", err)
		}
		_, updatedAt, err := latestRound(ctx, t.backend, t.app, head.Number)
		if err != nil {
			return err
		}
		if head.Time > updatedAt+maxAge {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the price to go stale: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// crash pushes the price down in steps, one mined update at a time, then hands the feed
// back to the traffic around the new price.
func (t *Traffic) crash(ctx context.Context) error {
	for _, step := range crashSteps {
		receipts, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
			t.stale = false
			tx, err := t.pushPrice(b, pct(t.price, step))
			if err != nil {
				return nil, err
			}
			return []*types.Transaction{tx}, nil
		})
		if err != nil {
			return err
		}
		if receipts[0].Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("the price update %s failed", receipts[0].TxHash)
		}
	}
	t.mu.Lock()
	t.target = new(big.Int).Set(t.price)
	t.oracleHeld = false
	t.mu.Unlock()
	return nil
}

// liquidationWave liquidates every position under water, plus a healthy one and one
// without debt, applies the outcomes to the model from the Liquidated events, and then has a
// late liquidator (a user running a bot) repeat one of the liquidations.
func (t *Traffic) liquidationWave(ctx context.Context) error {
	var targets []*account
	receipts, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		var txs []*types.Transaction
		liquidate := func(target common.Address, fail Failure) error {
			tx, err := t.sendTx(b, t.liquidator, &t.app.Vault, nil, t.app.pack("LendingVault", "liquidate", target), gasVault, "liquidate", fail)
			txs = append(txs, tx)
			return err
		}
		owed := new(big.Int)
		for _, u := range t.users {
			if h := t.health(u); h != nil && h.Cmp(pct(ether, 97)) < 0 {
				owed.Add(owed, u.debt)
			}
		}
		if t.liquidator.tokens.Cmp(owed) < 0 {
			if err := t.mint(b, t.liquidator, new(big.Int).Add(owed, liquidatorFloat)); err != nil {
				return nil, err
			}
		}
		healthyDone, emptyDone := false, false
		for _, u := range t.users {
			h := t.health(u)
			var fail Failure
			switch {
			case h == nil && !emptyDone:
				fail, emptyDone = FailDivByZero, true
			case h != nil && h.Cmp(pct(ether, 97)) < 0:
				fail = NoFailure
			case h != nil && h.Cmp(pct(ether, 110)) > 0 && !healthyDone:
				fail, healthyDone = FailRequire, true
			default:
				continue
			}
			u.busy = true
			targets = append(targets, u)
			if err := liquidate(u.addr, fail); err != nil {
				return nil, err
			}
		}
		if !emptyDone {
			// Nobody is free of debt: the attacker's account has never held a position.
			if err := liquidate(t.attacker.addr, FailDivByZero); err != nil {
				return nil, err
			}
		}
		return txs, nil
	})
	defer t.free(targets)
	if err != nil {
		return err
	}

	var liquidated *account
	vaultABI := t.app.abis["LendingVault"]
	t.mu.Lock()
	for _, r := range receipts {
		for _, l := range r.Logs {
			if l.Address != t.app.Vault || len(l.Topics) < 3 {
				continue
			}
			ev, err := vaultABI.EventByID(l.Topics[0])
			if err != nil || ev.Name != "Liquidated" {
				continue
			}
			vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
			if err != nil || len(vals) != 2 {
				continue
			}
			repaid, ok1 := vals[0].(*big.Int)
			seized, ok2 := vals[1].(*big.Int)
			if !ok1 || !ok2 {
				continue
			}
			who := common.BytesToAddress(l.Topics[1].Bytes())
			for _, u := range targets {
				if u.addr == who {
					u.debt.Sub(u.debt, repaid)
					u.collateral.Sub(u.collateral, seized)
					t.liquidator.tokens.Sub(t.liquidator.tokens, repaid)
					liquidated = u
				}
			}
		}
	}
	t.mu.Unlock()
	if liquidated == nil {
		return nil
	}
	_, err = t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		bot := t.users[len(t.users)-1]
		tx, err := t.sendTx(b, bot, &t.app.Vault, nil, t.app.pack("LendingVault", "liquidate", liquidated.addr), gasVault, "liquidate", FailDivByZero)
		return []*types.Transaction{tx}, err
	})
	return err
}

// exploit deploys the Attacker contract and makes every attempt it has; all of them revert.
func (t *Traffic) exploit(ctx context.Context) error {
	code, err := creation(t.app.arts, t.app.abis, "Attacker", t.app.Vault, t.app.Feed)
	if err != nil {
		return err
	}
	receipts, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		tx, err := t.sendTx(b, t.attacker, nil, nil, code, gasDeploy, "deploy Attacker", NoFailure)
		return []*types.Transaction{tx}, err
	})
	if err != nil {
		return err
	}
	if receipts[0].Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("deploying Attacker failed in %s", receipts[0].TxHash)
	}
	contract := receipts[0].ContractAddress
	t.app.setAttacker(contract)

	_, err = t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		attempts := []struct {
			to     common.Address
			value  *big.Int
			data   []byte
			action string
			fail   Failure
		}{
			{contract, ether, t.app.pack("Attacker", "attack"), "attack", FailReentrancy},
			{contract, nil, t.app.pack("Attacker", "pauseVault"), "pauseVault", FailMissingRole},
			{contract, nil, t.app.pack("Attacker", "pushPrice", big.NewInt(1)), "pushPrice", FailNotOwner},
			{t.app.Vault, nil, t.app.pack("LendingVault", "pause"), "pause", FailMissingRole},
			{t.app.Feed, nil, t.app.pack("PriceFeed", "updateAnswer", big.NewInt(1)), "updateAnswer", FailNotOwner},
		}
		var txs []*types.Transaction
		for _, a := range attempts {
			tx, err := t.sendTx(b, t.attacker, &a.to, a.value, a.data, gasRouter, a.action, a.fail)
			if err != nil {
				return nil, err
			}
			txs = append(txs, tx)
		}
		return txs, nil
	})
	return err
}

// ExploitBorrow is what the incident's exploit borrows: 30% of the vault's liquidity.
var ExploitBorrow = dollars(3_000_000)

// ExploitOperator is the attacker's preparation for Exploit: letting the router act for it
// (vault.setOperator(router, true)), as every router user does.
func (a *App) ExploitOperator() (to common.Address, data []byte) {
	return a.Vault, a.pack("LendingVault", "setOperator", a.Router, true)
}

// Exploit is the incident's exploit at the feed's current answer price (8 decimals): one
// router call that deposits just enough ETH for the vault to lend ExploitBorrow against it
// at that price, and borrows it. When the market has fallen below the feed's answer, the
// collateral is worth less than the debt: the vault is drained of the difference.
func (a *App) Exploit(price *big.Int) (to common.Address, value *big.Int, data []byte) {
	// collateral = borrow / (price × LTV), plus 5% for rounding and the price moving
	// before it is mined (the traffic moves the feed by up to 1% an update, and updates
	// may land between the read and the exploit's block).
	v := new(big.Int).Mul(ExploitBorrow, priceUnit)
	v.Mul(v, big.NewInt(105))
	v.Div(v, new(big.Int).Mul(price, big.NewInt(75)))
	return a.Router, v, a.pack("Router", "depositAndBorrow", ExploitBorrow)
}

// Price reads the feed's latest answer (8 decimals).
func (a *App) Price(ctx context.Context, b Backend) (*big.Int, error) {
	answer, _, err := latestRound(ctx, b, a, nil)
	return answer, err
}

// drain sends the exploit on the lagging price. With a guard, the vault is held as about to
// be paused meanwhile (the traffic sends nothing a pause would make fail), and drain reports
// whether the guard's pause landed first (the exploit reverted with EnforcedPause).
func (t *Traffic) drain(ctx context.Context) (guardPaused bool, err error) {
	if _, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		to, data := t.app.ExploitOperator()
		tx, err := t.sendTx(b, t.attacker, &to, nil, data, gasSimple, "setOperator", NoFailure)
		return []*types.Transaction{tx}, err
	}); err != nil {
		return false, err
	}
	price, err := t.app.Price(ctx, t.backend)
	if err != nil {
		return false, err
	}
	// The attacker sends as soon as a block is out, as a bot watching heads does: the
	// exploit waits in the pool for most of a block interval.
	if err := t.nextHead(ctx); err != nil {
		return false, err
	}
	receipts, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		fail := NoFailure
		if t.opts.Guarded {
			t.paused, t.pauseSure, fail = true, false, FailPaused
		}
		to, value, data := t.app.Exploit(price)
		tx, err := t.sendTx(b, t.attacker, &to, value, data, gasRouter, "router.depositAndBorrow", fail)
		return []*types.Transaction{tx}, err
	})
	if err != nil {
		return false, err
	}
	if receipts[0].Status == types.ReceiptStatusSuccessful {
		t.mu.Lock()
		_, value, _ := t.app.Exploit(price)
		t.attacker.collateral.Add(t.attacker.collateral, value)
		t.attacker.debt.Add(t.attacker.debt, ExploitBorrow)
		t.attacker.tokens.Add(t.attacker.tokens, ExploitBorrow)
		t.mu.Unlock()
	}
	if !t.opts.Guarded {
		return false, nil
	}
	// A guard that saw the exploit late still pauses, a block or two after it.
	return t.waitPaused(ctx, 5*time.Second)
}

// nextHead returns as soon as the chain has a block above the current head (polled every
// few milliseconds: the embedded chain answers in process).
func (t *Traffic) nextHead(ctx context.Context) error {
	head, err := t.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot read the latest header: %w", err)
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		h, err := t.backend.HeaderByNumber(ctx, nil)
		if err != nil {
			return fmt.Errorf("cannot read the latest header: %w", err)
		}
		if h.Number.Cmp(head.Number) > 0 {
			return nil
		}
	}
}

// waitPaused polls the vault's paused() until it is true or within has passed.
func (t *Traffic) waitPaused(ctx context.Context, within time.Duration) (bool, error) {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		var paused bool
		if err := t.call(ctx, nil, &paused, t.app.Vault, "LendingVault", "paused"); err != nil {
			return false, err
		}
		if paused || time.Now().After(deadline) {
			return paused, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

// pauseResponse pauses the vault (unless the guard did), shows a user running into the
// pause, and unpauses.
func (t *Traffic) pauseResponse(ctx context.Context, guardPaused bool) error {
	// paused is set before the pause is sent and cleared once the unpause is mined;
	// deposits are sent to fail only between the pause's receipt and the unpause's
	// sending (pauseSure), when no block can order them on the other side of either.
	owner := func(method string) func(b batch) ([]*types.Transaction, error) {
		return func(b batch) ([]*types.Transaction, error) {
			t.paused, t.pauseSure = true, false
			tx, err := t.sendTx(b, t.owner, &t.app.Vault, nil, t.app.pack("LendingVault", method), gasSimple, method, NoFailure)
			return []*types.Transaction{tx}, err
		}
	}
	if !guardPaused {
		if _, err := t.phase(ctx, owner("pause")); err != nil {
			return err
		}
	}
	t.mu.Lock()
	t.pauseSure = true
	t.mu.Unlock()
	if _, err := t.phase(ctx, func(b batch) ([]*types.Transaction, error) {
		u := t.users[0]
		tx, err := t.sendTx(b, u, &t.app.Vault, ether, t.app.pack("LendingVault", "deposit"), gasVault, "deposit", FailPaused)
		return []*types.Transaction{tx}, err
	}); err != nil {
		return err
	}
	if _, err := t.phase(ctx, owner("unpause")); err != nil {
		return err
	}
	t.mu.Lock()
	t.paused, t.pauseSure = false, false
	t.mu.Unlock()
	return nil
}
