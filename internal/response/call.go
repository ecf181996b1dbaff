package response

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// CallForms is a call of any contract (not one of a watched contract's
// emergency actions) in the forms an action is prepared in, for callers
// outside this package that prepare calls of their own (the patch
// check's upgrade): raw calldata, a `cast send` line and a Safe
// Transaction Builder batch file.
type CallForms struct {
	To       common.Address `json:"to"`
	Function string         `json:"function"`
	Args     []string       `json:"args"`
	Calldata hexutil.Bytes  `json:"calldata"`
	// Cast names no key: add your wallet option (--account NAME, --ledger).
	Cast      string          `json:"cast"`
	SafeBatch json.RawMessage `json:"safeBatch"`
}

// PrepareCall encodes a call of m on to with args written as text (as
// Prepare takes them) and returns it in its forms; name titles the Safe
// batch, created at createdAt. Arguments that do not fit m are ErrInvalid.
func PrepareCall(chainID *big.Int, to common.Address, m abi.Method, args []string, name string, createdAt time.Time) (*CallForms, error) {
	data, err := encodeArgs(m, args)
	if err != nil {
		return nil, err
	}
	batch, err := newBatch(chainID, common.Address{}, createdAt.UnixMilli(), name, []batchCall{{to: to, data: data, method: &m, args: args}})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(batch)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the Safe batch: %w", err)
	}
	return &CallForms{To: to, Function: m.Sig, Args: append([]string{}, args...), Calldata: data, Cast: castLine(to, m, args), SafeBatch: raw}, nil
}
