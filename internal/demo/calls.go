package demo

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// callContract runs a read-only method of one of the app's contracts at block (nil for the
// latest) and converts its single result into out, a pointer of the matching Go type.
func callContract(ctx context.Context, b Backend, app *App, block *big.Int, out any, to common.Address, contract, method string, args ...any) error {
	vals, err := callValues(ctx, b, app, block, to, contract, method, args...)
	if err != nil {
		return err
	}
	if len(vals) != 1 {
		return fmt.Errorf("%s.%s returned %d values, want 1", contract, method, len(vals))
	}
	if err := convertInto(vals[0], out); err != nil {
		return fmt.Errorf("cannot decode the result of %s.%s: %w", contract, method, err)
	}
	return nil
}

func callValues(ctx context.Context, b Backend, app *App, block *big.Int, to common.Address, contract, method string, args ...any) ([]any, error) {
	data, err := b.CallContract(ctx, ethereum.CallMsg{To: &to, Data: app.pack(contract, method, args...)}, block)
	if err != nil {
		return nil, fmt.Errorf("cannot call %s.%s: %w", contract, method, err)
	}
	vals, err := app.abis[contract].Unpack(method, data)
	if err != nil {
		return nil, fmt.Errorf("cannot decode the result of %s.%s: %w", contract, method, err)
	}
	return vals, nil
}

// convertInto stores v in the pointer out, failing instead of panicking on a type mismatch.
func convertInto(v, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	abi.ConvertType(v, out)
	return nil
}

// latestRound reads the feed's latest answer and the time it was updated.
func latestRound(ctx context.Context, b Backend, app *App, block *big.Int) (answer *big.Int, updatedAt uint64, err error) {
	vals, err := callValues(ctx, b, app, block, app.Feed, "PriceFeed", "latestRoundData")
	if err != nil {
		return nil, 0, err
	}
	if len(vals) != 5 {
		return nil, 0, fmt.Errorf("PriceFeed.latestRoundData returned %d values, want 5", len(vals))
	}
	answer, ok1 := vals[1].(*big.Int)
	updated, ok2 := vals[3].(*big.Int)
	if !ok1 || !ok2 {
		return nil, 0, fmt.Errorf("PriceFeed.latestRoundData returned %v", vals)
	}
	return answer, updated.Uint64(), nil
}
