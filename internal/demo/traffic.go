package demo

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Failure names the failure path a transaction is sent to hit.
type Failure string

// The failure paths. Traffic spreads its failing transactions over the first five; the
// incident adds the rest.
const (
	NoFailure       Failure = ""                // meant to succeed
	FailRequire     Failure = "require"         // Error(string) from a require in the vault
	FailCustomError Failure = "custom-error"    // InsufficientCollateral(account, requested, maxBorrow)
	FailUnderflow   Failure = "panic-underflow" // Panic(0x11): repaying more than the debt
	FailDivByZero   Failure = "panic-division"  // Panic(0x12): health factor of an account without debt
	FailNested      Failure = "nested-revert"   // ERC20InsufficientAllowance from the token, three calls deep
	FailStalePrice  Failure = "stale-price"     // StalePrice(updatedAt, maxAge)
	FailReentrancy  Failure = "reentrancy"      // ReentrancyGuardReentrantCall()
	FailMissingRole Failure = "missing-role"    // AccessControlUnauthorizedAccount(account, role)
	FailNotOwner    Failure = "not-owner"       // OwnableUnauthorizedAccount(account)
	FailPaused      Failure = "paused"          // EnforcedPause()
)

// trafficFailures are the failure paths ordinary traffic takes.
var trafficFailures = []Failure{FailRequire, FailCustomError, FailUnderflow, FailDivByZero, FailNested}

// Sent describes one transaction sent by Traffic or its incident.
type Sent struct {
	Tx      *types.Transaction
	From    common.Address
	Action  string  // what the transaction does, e.g. "borrow", "router.repayAndWithdraw"
	Failure Failure // the failure it is meant to hit, or NoFailure
}

// Options tunes the traffic generator.
type Options struct {
	// Rate is the number of transactions per second Run sends (default 5).
	Rate float64
	// FailureRate is the share of transactions meant to fail (default 0.05; negative for none).
	FailureRate float64
	// Seed makes the sequence of actions reproducible.
	Seed uint64
	// OnSend, if set, is called for every transaction sent, on the goroutine that sent it,
	// while the generator is locked: it must not call back into the Traffic.
	OnSend func(Sent)
	// OnError, if set, receives the errors of failed steps and Run goes on; otherwise Run
	// returns the first one.
	OnError func(error)
	// Guarded says a mempool guard watches the chain and pauses the vault when the
	// incident's exploit is pending: the exploit is then meant to revert with
	// EnforcedPause, and the incident's response finds the vault already paused.
	Guarded bool
}

// account is the generator's model of one account's position, updated as transactions are
// sent, so that a step never waits for blocks to choose amounts that succeed or fail as meant.
type account struct {
	key        *ecdsa.PrivateKey
	addr       common.Address
	collateral *big.Int // wei in the vault
	debt       *big.Int // DUSD owed
	tokens     *big.Int // DUSD held
	// busy marks a position the incident is acting on; traffic leaves it alone meanwhile.
	busy bool
}

func newAccount(key *ecdsa.PrivateKey) *account {
	return &account{key: key, addr: crypto.PubkeyToAddress(key.PublicKey), collateral: new(big.Int), debt: new(big.Int), tokens: new(big.Int)}
}

// Traffic generates a realistic stream of transactions against an App. Step and the
// incident may be called from different goroutines.
type Traffic struct {
	app     *App
	backend Backend
	sender  *sender
	opts    Options
	period  time.Duration

	mu         sync.Mutex // serialises steps and the incident's sends; guards everything below
	rng        *rand.Rand
	carry      float64 // fractional transactions owed to the next step
	ready      bool
	price      *big.Int // latest feed answer sent
	target     *big.Int // price the random walk reverts to
	lastOracle uint64   // block time of the latest feed answer
	oracleTx   common.Hash
	oracleHeld bool // the incident holds the feed: no updates, and the price may be stale
	stale      bool // the incident saw the vault's staleness limit pass
	paused     bool // the vault is (about to be) paused, or its unpause is not mined yet
	pauseSure  bool // the pause is mined and the unpause not sent: a deposit sent now is certain to fail
	owner      *account
	liquidator *account
	attacker   *account
	users      []*account
}

// NewTraffic returns a generator for app. keys must come from Keys (at least MinKeyCount
// of them): keys[Deployer] is the app's deployer, which owns the feed and mints tokens.
// Every key needs ETH for gas and collateral.
func NewTraffic(app *App, backend Backend, keys []*ecdsa.PrivateKey, opts Options) (*Traffic, error) {
	if len(keys) < MinKeyCount {
		return nil, fmt.Errorf("traffic needs at least %d keys, got %d", MinKeyCount, len(keys))
	}
	if a := crypto.PubkeyToAddress(keys[Deployer].PublicKey); a != app.Deployer {
		return nil, fmt.Errorf("key %d is %s, but the app was deployed by %s", Deployer, a, app.Deployer)
	}
	if opts.Rate <= 0 {
		opts.Rate = 5
	}
	switch {
	case opts.FailureRate == 0:
		opts.FailureRate = 0.05
	case opts.FailureRate < 0:
		opts.FailureRate = 0
	}
	// Steps come at most five times a second; slower rates space out single-transaction steps.
	period := max(200*time.Millisecond, time.Duration(float64(time.Second)/opts.Rate))
	t := &Traffic{
		app:        app,
		backend:    backend,
		sender:     &sender{backend: backend, chainID: app.ChainID, signer: types.LatestSignerForChainID(app.ChainID), nonces: make(map[common.Address]uint64)},
		opts:       opts,
		period:     period,
		rng:        rand.New(rand.NewPCG(opts.Seed, 0x626c6f636b746f72)),
		owner:      newAccount(keys[Deployer]),
		liquidator: newAccount(keys[Liquidator]),
		attacker:   newAccount(keys[Attacker]),
	}
	for _, k := range keys[FirstUser:] {
		t.users = append(t.users, newAccount(k))
	}
	return t, nil
}

// Run calls Step at the configured rate until ctx ends, then returns nil.
func (t *Traffic) Run(ctx context.Context) error {
	tick := time.NewTicker(t.period)
	defer tick.Stop()
	for {
		if err := t.Step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if t.opts.OnError == nil {
				return err
			}
			t.opts.OnError(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// batch is the context of one step: its fee caps, the head it was planned on, and the
// positions already touched, which a transaction meant to fail must not depend on (so
// that re-running it against the state before its block reproduces the failure).
type batch struct {
	ctx     context.Context
	fees    fees
	head    *types.Header
	touched map[common.Address]bool
}

// Step sends one tick's worth of transactions (Rate × tick, at least one) without waiting
// for any of them to be mined. The first step also sets up the accounts.
func (t *Traffic) Step(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, err := t.newBatch(ctx)
	if err != nil {
		return err
	}
	t.carry += t.opts.Rate * t.period.Seconds()
	n := max(1, int(t.carry))
	t.carry = max(0, t.carry-float64(n))

	sent := 0
	// Keep the feed well inside the vault's staleness limit whatever the rate.
	if !t.oracleHeld && b.head.Time >= t.lastOracle+uint64(MaxPriceAge/time.Second)/3 {
		if err := t.updateOracle(b); err != nil {
			return err
		}
		sent++
	}
	for sent < n {
		var k int
		if t.rng.Float64() < t.opts.FailureRate {
			k, err = t.fail(b)
		} else {
			k, err = t.normal(b)
		}
		if err != nil {
			return err
		}
		sent += k
	}
	return nil
}

func (t *Traffic) newBatch(ctx context.Context) (batch, error) {
	f, head, err := t.sender.fees(ctx)
	if err != nil {
		return batch{}, err
	}
	b := batch{ctx: ctx, fees: f, head: head, touched: make(map[common.Address]bool)}
	if !t.ready {
		if err := t.setup(b); err != nil {
			return batch{}, fmt.Errorf("setting up the traffic accounts: %w", err)
		}
		t.ready = true
	}
	return b, nil
}

// setup reads the accounts' positions from the chain and sends the one-time approvals: each
// user lets the router act for it, the liquidator lets the vault take its tokens, and users
// short of tokens get some minted.
func (t *Traffic) setup(b batch) error {
	answer, updatedAt, err := latestRound(b.ctx, t.backend, t.app, nil)
	if err != nil {
		return err
	}
	t.price = answer
	t.target = new(big.Int).Set(answer)
	t.lastOracle = updatedAt

	for _, a := range append([]*account{t.liquidator}, t.users...) {
		for _, r := range []struct {
			dst      **big.Int
			contract string
			to       common.Address
			method   string
		}{
			{&a.collateral, "LendingVault", t.app.Vault, "collateralOf"},
			{&a.debt, "LendingVault", t.app.Vault, "debtOf"},
			{&a.tokens, "DemoToken", t.app.Token, "balanceOf"},
		} {
			if err := t.call(b.ctx, nil, r.dst, r.to, r.contract, r.method, a.addr); err != nil {
				return err
			}
		}
	}
	for _, u := range t.users {
		var ok bool
		if err := t.call(b.ctx, nil, &ok, t.app.Vault, "LendingVault", "isOperator", u.addr, t.app.Router); err != nil {
			return err
		}
		if !ok {
			if err := t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "setOperator", t.app.Router, true), gasSimple, "setOperator", NoFailure); err != nil {
				return err
			}
		}
		if u.tokens.Cmp(pct(userFloat, 50)) < 0 {
			if err := t.mint(b, u, userFloat); err != nil {
				return err
			}
		}
	}
	var allowance *big.Int
	if err := t.call(b.ctx, nil, &allowance, t.app.Token, "DemoToken", "allowance", t.liquidator.addr, t.app.Vault); err != nil {
		return err
	}
	if allowance.Cmp(pct(maxUint256, 50)) < 0 {
		if err := t.send(b, t.liquidator, t.app.Token, nil, t.app.pack("DemoToken", "approve", t.app.Vault, maxUint256), gasSimple, "approve", NoFailure); err != nil {
			return err
		}
	}
	if t.liquidator.tokens.Cmp(pct(liquidatorFloat, 50)) < 0 {
		return t.mint(b, t.liquidator, liquidatorFloat)
	}
	return nil
}

// call runs a read-only method at block (nil for the latest) and decodes its results into out.
func (t *Traffic) call(ctx context.Context, block *big.Int, out any, to common.Address, contract, method string, args ...any) error {
	return callContract(ctx, t.backend, t.app, block, out, to, contract, method, args...)
}

// send sends one transaction from a and reports it to OnSend.
func (t *Traffic) send(b batch, a *account, to common.Address, value *big.Int, data []byte, gas uint64, action string, fail Failure) error {
	_, err := t.sendTx(b, a, &to, value, data, gas, action, fail)
	return err
}

func (t *Traffic) sendTx(b batch, a *account, to *common.Address, value *big.Int, data []byte, gas uint64, action string, fail Failure) (*types.Transaction, error) {
	tx, err := t.sender.send(b.ctx, a.key, to, value, data, gas, b.fees)
	if err != nil {
		return nil, fmt.Errorf("cannot send %s: %w", action, err)
	}
	if t.opts.OnSend != nil {
		t.opts.OnSend(Sent{Tx: tx, From: a.addr, Action: action, Failure: fail})
	}
	return tx, nil
}

// ---- normal use ----

func (t *Traffic) normal(b batch) (int, error) {
	if t.restricted() {
		return t.restrictedNormal(b)
	}
	if u := t.unhealthy(b); u != nil && t.rng.IntN(2) == 0 {
		return t.liquidate(b, u)
	}
	switch r := t.rng.IntN(100); {
	case r < 25:
		return t.transfer(b)
	case r < 40:
		return t.deposit(b)
	case r < 55:
		return t.borrow(b)
	case r < 70:
		return t.repay(b)
	case r < 80:
		return t.withdraw(b)
	case r < 90:
		return 1, t.updateOracle(b)
	default:
		return t.tryBorrow(b)
	}
}

// restricted reports whether the incident has made the vault's price or entry points
// unusable. The model cannot tell in advance whether a transaction reading the price will
// be mined before or after the feed goes stale, so meanwhile traffic sends only what does not
// depend on it, plus the attempts users would make that are certain to fail.
func (t *Traffic) restricted() bool { return t.oracleHeld || t.paused }

func (t *Traffic) restrictedNormal(b batch) (int, error) {
	switch r := t.rng.IntN(100); {
	case r < 40:
		return t.transfer(b)
	case r < 70:
		return t.repay(b)
	case t.paused && !t.pauseSure:
		// The pause or the unpause is on its way: whether a deposit lands before or
		// after it is up to the block builder, so send what does not depend on it.
		return t.topUp(b)
	case t.paused:
		u := t.pickUser(b, nil)
		if u == nil {
			return t.topUp(b)
		}
		return 1, t.send(b, u, t.app.Vault, t.ether(20, 200), t.app.pack("LendingVault", "deposit"), gasVault, "deposit", FailPaused)
	case t.stale:
		u := t.pickUser(b, nil)
		if u == nil {
			return t.topUp(b)
		}
		if t.rng.IntN(2) == 0 {
			return 1, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "borrow", dollars(100+t.rng.Int64N(900))), gasVault, "borrow", FailStalePrice)
		}
		// The router catches the StalePrice refusal; the deposit goes through.
		extra := t.ether(10, 100)
		u.collateral.Add(u.collateral, extra)
		return 1, t.send(b, u, t.app.Router, extra, t.app.pack("Router", "depositAndTryBorrow", dollars(100)), gasRouter, "router.depositAndTryBorrow", NoFailure)
	default:
		return t.deposit(b)
	}
}

// topUp mints tokens for a random user: always possible, whatever the vault's state.
func (t *Traffic) topUp(b batch) (int, error) {
	return 1, t.mint(b, t.users[t.rng.IntN(len(t.users))], userFloat)
}

func (t *Traffic) transfer(b batch) (int, error) {
	from := t.pickUser(b, func(a *account) bool { return a.tokens.Cmp(dollars(20)) >= 0 })
	if from == nil {
		return t.topUp(b)
	}
	to := t.users[t.rng.IntN(len(t.users))]
	if to == from {
		to = t.users[(t.rng.IntN(len(t.users)-1)+1+t.indexOf(from))%len(t.users)]
	}
	amount := t.share(from.tokens, 1, 10)
	b.touched[from.addr], b.touched[to.addr] = true, true
	from.tokens.Sub(from.tokens, amount)
	to.tokens.Add(to.tokens, amount)
	return 1, t.send(b, from, t.app.Token, nil, t.app.pack("DemoToken", "transfer", to.addr, amount), gasSimple, "transfer", NoFailure)
}

func (t *Traffic) deposit(b batch) (int, error) {
	u := t.pickUser(b, nil)
	if u == nil {
		u = t.users[t.rng.IntN(len(t.users))] // every position is busy; a deposit never hurts
	}
	amount := t.ether(20, 200)
	b.touched[u.addr] = true
	u.collateral.Add(u.collateral, amount)
	return 1, t.send(b, u, t.app.Vault, amount, t.app.pack("LendingVault", "deposit"), gasVault, "deposit", NoFailure)
}

func (t *Traffic) borrow(b batch) (int, error) {
	u := t.pickUser(b, nil)
	if u == nil {
		return t.deposit(b)
	}
	// Most borrowers keep a margin; a few go close to the limit and get liquidated on a dip.
	usage := int64(85)
	if t.rng.IntN(10) == 0 {
		usage = 97
	}
	viaRouter := t.rng.IntN(2) == 0
	extra := new(big.Int)
	if viaRouter {
		extra = t.ether(20, 200)
	}
	collateral := new(big.Int).Add(u.collateral, extra)
	room := new(big.Int).Sub(pct(t.maxBorrow(collateral), usage), u.debt)
	if room.Cmp(dollars(10)) < 0 {
		return t.deposit(b)
	}
	amount := t.share(room, 10, 100)
	b.touched[u.addr] = true
	u.collateral.Set(collateral)
	u.debt.Add(u.debt, amount)
	u.tokens.Add(u.tokens, amount)
	if viaRouter {
		return 1, t.send(b, u, t.app.Router, extra, t.app.pack("Router", "depositAndBorrow", amount), gasRouter, "router.depositAndBorrow", NoFailure)
	}
	return 1, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "borrow", amount), gasVault, "borrow", NoFailure)
}

// tryBorrow deposits through the router and asks for a loan that the vault grants or, half
// of the time, refuses; the router catches the refusal, so the transaction succeeds either way.
func (t *Traffic) tryBorrow(b batch) (int, error) {
	u := t.pickUser(b, nil)
	if u == nil {
		return t.deposit(b)
	}
	extra := t.ether(10, 100)
	collateral := new(big.Int).Add(u.collateral, extra)
	limit := t.maxBorrow(collateral)
	room := new(big.Int).Sub(pct(limit, 85), u.debt)
	granted := room.Cmp(dollars(10)) >= 0 && t.rng.IntN(2) == 0
	var amount *big.Int
	if granted {
		amount = t.share(room, 10, 100)
		u.debt.Add(u.debt, amount)
		u.tokens.Add(u.tokens, amount)
	} else {
		amount = new(big.Int).Add(new(big.Int).Sub(limit, u.debt), maxBig(pct(limit, 50), dollars(100)))
		if amount.Sign() <= 0 {
			amount = dollars(100)
		}
	}
	b.touched[u.addr] = true
	u.collateral.Set(collateral)
	return 1, t.send(b, u, t.app.Router, extra, t.app.pack("Router", "depositAndTryBorrow", amount), gasRouter, "router.depositAndTryBorrow", NoFailure)
}

func (t *Traffic) repay(b batch) (int, error) {
	u := t.pickUser(b, func(a *account) bool { return a.debt.Cmp(dollars(1)) >= 0 })
	if u == nil {
		if t.restricted() {
			return t.topUp(b)
		}
		return t.borrow(b)
	}
	b.touched[u.addr] = true
	if u.tokens.Cmp(dollars(1)) < 0 {
		return 1, t.mint(b, u, userFloat)
	}
	amount := t.share(minBig(u.debt, u.tokens), 30, 100)
	// Repaying takes an exact approval first; the nested-revert failure is a repay without it.
	if err := t.send(b, u, t.app.Token, nil, t.app.pack("DemoToken", "approve", t.app.Vault, amount), gasSimple, "approve", NoFailure); err != nil {
		return 0, err
	}
	u.debt.Sub(u.debt, amount)
	u.tokens.Sub(u.tokens, amount)
	// Withdrawing through the router reads the price and needs the vault unpaused.
	if t.restricted() || t.rng.IntN(2) == 0 {
		return 2, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "repay", amount), gasVault, "repay", NoFailure)
	}
	withdraw := t.share(t.freeCollateral(u), 0, 50)
	u.collateral.Sub(u.collateral, withdraw)
	return 2, t.send(b, u, t.app.Router, nil, t.app.pack("Router", "repayAndWithdraw", amount, withdraw), gasRouter, "router.repayAndWithdraw", NoFailure)
}

func (t *Traffic) withdraw(b batch) (int, error) {
	u := t.pickUser(b, func(a *account) bool { return t.freeCollateral(a).Cmp(t.ether(1, 1)) >= 0 })
	if u == nil {
		return t.deposit(b)
	}
	amount := t.share(t.freeCollateral(u), 10, 60)
	b.touched[u.addr] = true
	u.collateral.Sub(u.collateral, amount)
	return 1, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "withdraw", amount), gasVault, "withdraw", NoFailure)
}

// updateOracle moves the price by up to 1% either way, drifting back toward the target.
func (t *Traffic) updateOracle(b batch) error {
	p := new(big.Int).Set(t.price)
	move := t.rng.Int64N(201) - 100 // basis points, ±1%
	p.Add(p, new(big.Int).Div(new(big.Int).Mul(t.price, big.NewInt(move)), big.NewInt(10_000)))
	p.Add(p, pct(new(big.Int).Sub(t.target, t.price), 5))
	_, err := t.pushPrice(b, p)
	return err
}

func (t *Traffic) pushPrice(b batch, p *big.Int) (*types.Transaction, error) {
	tx, err := t.sendTx(b, t.owner, &t.app.Feed, nil, t.app.pack("PriceFeed", "updateAnswer", p), gasSimple, "updateAnswer", NoFailure)
	if err != nil {
		return nil, err
	}
	t.price = p
	t.lastOracle = b.head.Time
	t.oracleTx = tx.Hash()
	return tx, nil
}

func (t *Traffic) liquidate(b batch, u *account) (int, error) {
	sent := 0
	if t.liquidator.tokens.Cmp(u.debt) < 0 {
		if err := t.mint(b, t.liquidator, liquidatorFloat); err != nil {
			return 0, err
		}
		sent++
	}
	seized := t.seizable(u)
	b.touched[u.addr] = true
	t.liquidator.tokens.Sub(t.liquidator.tokens, u.debt)
	u.debt.SetInt64(0)
	u.collateral.Sub(u.collateral, seized)
	return sent + 1, t.send(b, t.liquidator, t.app.Vault, nil, t.app.pack("LendingVault", "liquidate", u.addr), gasVault, "liquidate", NoFailure)
}

func (t *Traffic) mint(b batch, to *account, amount *big.Int) error {
	to.tokens.Add(to.tokens, amount)
	return t.send(b, t.owner, t.app.Token, nil, t.app.pack("DemoToken", "mint", to.addr, amount), gasSimple, "mint", NoFailure)
}

// ---- failures ----

// fail sends one transaction meant to revert, along a failure path picked at random.
func (t *Traffic) fail(b batch) (int, error) {
	untouched := func(ok func(*account) bool) *account {
		return t.pickUser(b, func(a *account) bool { return !b.touched[a.addr] && (ok == nil || ok(a)) })
	}
	hasDebt := func(a *account) bool { return a.debt.Cmp(dollars(1)) >= 0 }
	kinds := trafficFailures
	if t.restricted() {
		// Only the paths that fail before reading the price or checking the pause.
		kinds = []Failure{FailUnderflow, FailNested}
		if !t.paused {
			kinds = append(kinds, FailRequire)
		}
	}
	switch kind := kinds[t.rng.IntN(len(kinds))]; kind {
	case FailRequire:
		if !t.restricted() && t.rng.IntN(2) == 0 {
			// Liquidating a healthy account: "Vault: account is healthy".
			if u := untouched(func(a *account) bool { h := t.health(a); return h != nil && h.Cmp(pct(ether, 120)) > 0 }); u != nil {
				b.touched[u.addr] = true
				return 1, t.send(b, t.liquidator, t.app.Vault, nil, t.app.pack("LendingVault", "liquidate", u.addr), gasVault, "liquidate", kind)
			}
		}
		// Withdrawing more than the collateral: "Vault: withdraw exceeds collateral".
		u := untouched(nil)
		if u == nil {
			return t.normal(b)
		}
		b.touched[u.addr] = true
		amount := new(big.Int).Add(u.collateral, t.ether(10, 100))
		return 1, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "withdraw", amount), gasVault, "withdraw", kind)
	case FailCustomError:
		u := untouched(nil)
		if u == nil {
			return t.normal(b)
		}
		b.touched[u.addr] = true
		extra := new(big.Int)
		if t.rng.IntN(3) == 0 {
			extra = t.ether(10, 100)
		}
		limit := t.maxBorrow(new(big.Int).Add(u.collateral, extra))
		amount := new(big.Int).Sub(limit, u.debt)
		if amount.Sign() < 0 {
			amount.SetInt64(0)
		}
		amount.Add(amount, maxBig(pct(limit, 50), dollars(100)))
		if extra.Sign() > 0 {
			return 1, t.send(b, u, t.app.Router, extra, t.app.pack("Router", "depositAndBorrow", amount), gasRouter, "router.depositAndBorrow", kind)
		}
		return 1, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "borrow", amount), gasVault, "borrow", kind)
	case FailUnderflow:
		u := untouched(nil)
		if u == nil {
			return t.normal(b)
		}
		b.touched[u.addr] = true
		amount := new(big.Int).Add(u.debt, t.share(dollars(100), 1, 100))
		return 1, t.send(b, u, t.app.Vault, nil, t.app.pack("LendingVault", "repay", amount), gasVault, "repay", kind)
	case FailDivByZero:
		target := t.liquidator.addr // never borrows
		if u := untouched(func(a *account) bool { return a.debt.Sign() == 0 }); u != nil {
			target = u.addr
			b.touched[u.addr] = true
		}
		return 1, t.send(b, t.liquidator, t.app.Vault, nil, t.app.pack("LendingVault", "liquidate", target), gasVault, "liquidate", kind)
	case FailNested:
		u := untouched(hasDebt)
		if u == nil {
			return t.normal(b)
		}
		b.touched[u.addr] = true
		amount := t.share(u.debt, 10, 100)
		return 1, t.send(b, u, t.app.Router, nil, t.app.pack("Router", "repayAndWithdraw", amount, new(big.Int)), gasRouter, "router.repayAndWithdraw", kind)
	default:
		return 0, fmt.Errorf("BUG: traffic has no failure path %q", kind)
	}
}

// ---- model ----

// pickUser returns a random user that is not busy and satisfies ok (nil: any), or nil.
func (t *Traffic) pickUser(b batch, ok func(*account) bool) *account {
	start := t.rng.IntN(len(t.users))
	for i := range t.users {
		u := t.users[(start+i)%len(t.users)]
		if !u.busy && (ok == nil || ok(u)) {
			return u
		}
	}
	return nil
}

func (t *Traffic) indexOf(a *account) int {
	for i, u := range t.users {
		if u == a {
			return i
		}
	}
	return 0
}

// unhealthy returns a position clearly below the liquidation threshold, if any.
func (t *Traffic) unhealthy(b batch) *account {
	return t.pickUser(b, func(a *account) bool {
		h := t.health(a)
		return h != nil && h.Cmp(pct(ether, 97)) < 0
	})
}

// value is the dollar value of wei at the model price, as LendingVault.collateralValue computes it.
func (t *Traffic) value(wei *big.Int) *big.Int {
	return new(big.Int).Div(new(big.Int).Mul(wei, t.price), priceUnit)
}

func (t *Traffic) maxBorrow(collateral *big.Int) *big.Int {
	return pct(t.value(collateral), 75)
}

// health mirrors LendingVault.healthFactor; nil when there is no debt.
func (t *Traffic) health(a *account) *big.Int {
	if a.debt.Sign() == 0 {
		return nil
	}
	limit := pct(t.value(a.collateral), 80)
	return new(big.Int).Div(new(big.Int).Mul(limit, ether), a.debt)
}

// seizable mirrors the collateral LendingVault.liquidate hands the liquidator.
func (t *Traffic) seizable(a *account) *big.Int {
	s := new(big.Int).Div(new(big.Int).Mul(a.debt, big.NewInt(105)), big.NewInt(100))
	s.Mul(s, priceUnit).Div(s, t.price)
	return minBig(s, a.collateral)
}

// freeCollateral is what a can withdraw while keeping a fifth above the borrowing limit.
func (t *Traffic) freeCollateral(a *account) *big.Int {
	need := new(big.Int).Mul(a.debt, priceUnit)
	need.Div(need, t.price)
	need.Mul(need, big.NewInt(100*120)).Div(need, big.NewInt(75*100))
	free := new(big.Int).Sub(a.collateral, need)
	if free.Sign() < 0 {
		free.SetInt64(0)
	}
	return free
}

// share returns between lo% and hi% of x.
func (t *Traffic) share(x *big.Int, lo, hi int64) *big.Int {
	return pct(x, lo+t.rng.Int64N(hi-lo+1))
}

// ether returns a random amount between lo and hi hundredths of an ether.
func (t *Traffic) ether(lo, hi int64) *big.Int {
	cents := lo + t.rng.Int64N(hi-lo+1)
	return new(big.Int).Mul(big.NewInt(cents), big.NewInt(1e16))
}

func pct(x *big.Int, p int64) *big.Int {
	return new(big.Int).Div(new(big.Int).Mul(x, big.NewInt(p)), big.NewInt(100))
}

func minBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}

func maxBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}
