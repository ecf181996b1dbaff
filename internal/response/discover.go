package response

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/decode"
)

// probeAddress calls each emergency function as a stranger: the revert
// names the role or owner it needs (OpenZeppelin's
// AccessControlUnauthorizedAccount and OwnableUnauthorizedAccount, or the
// older string messages).
var probeAddress = common.BytesToAddress(crypto.Keccak256([]byte("blocktorch response probe"))[12:])

var (
	topicRoleGranted = crypto.Keccak256Hash([]byte("RoleGranted(bytes32,address,address)"))
	topicRoleRevoked = crypto.Keccak256Hash([]byte("RoleRevoked(bytes32,address,address)"))
)

// blockListName matches the names of block-list functions: blacklist,
// addToBlocklist, denylist, freeze, ban, blockAccount…
var blockListName = regexp.MustCompile(`(?i)(black|block|deny|ban)list|^(add)?(ban|freeze|block)(account|address|user)?$|^blacklist`)

// oldRoleMessage is OpenZeppelin 4's AccessControl revert message.
var oldRoleMessage = regexp.MustCompile(`AccessControl: account 0x[0-9a-fA-F]{40} is missing role (0x[0-9a-fA-F]{64})`)

// contractInfo is what discovery learnt of one contract.
type contractInfo struct {
	c         Contract
	abi       *abi.ABI
	roleNames map[common.Hash]string
}

// newContractInfo parses c's ABI and reads the names of its roles.
func newContractInfo(ctx context.Context, node Node, c Contract) (*contractInfo, error) {
	parsed, err := decode.ParseABI(c.ABI)
	if err != nil {
		return nil, fmt.Errorf("cannot read the ABI of %s: %w", c.Address, err)
	}
	info := &contractInfo{c: c, abi: parsed, roleNames: map[common.Hash]string{{}: "DEFAULT_ADMIN_ROLE"}}
	if err := info.readRoleNames(ctx, node); err != nil {
		return nil, err
	}
	return info, nil
}

// discover returns the emergency actions of c, with the role each needs
// and its holders at the head block.
func discover(ctx context.Context, node Node, c Contract) ([]Action, error) {
	info, err := newContractInfo(ctx, node, c)
	if err != nil {
		return nil, err
	}
	parsed := info.abi
	var actions []Action
	has := func(sig string) (abi.Method, bool) {
		for _, m := range parsed.Methods {
			if m.Sig == sig {
				return m, true
			}
		}
		return abi.Method{}, false
	}
	if pause, ok := has("pause()"); ok {
		if unpause, ok := has("unpause()"); ok {
			state := ""
			if _, ok := has("paused()"); ok {
				var paused bool
				if err := info.view(ctx, node, "paused", &paused); err == nil {
					state = fmt.Sprintf("paused: %t", paused)
				}
			}
			actions = append(actions,
				info.action(KindPause, pause, nil, "Pauses the contract: functions guarded by whenNotPaused revert.", state),
				info.action(KindUnpause, unpause, nil, "Unpauses the contract.", state))
		}
	}
	if revoke, ok := has("revokeRole(bytes32,address)"); ok {
		if _, ok := has("hasRole(bytes32,address)"); ok {
			roles := make([]common.Hash, 0, len(info.roleNames))
			for id := range info.roleNames {
				roles = append(roles, id)
			}
			slices.SortFunc(roles, func(a, b common.Hash) int { return strings.Compare(info.roleNames[a], info.roleNames[b]) })
			for _, id := range roles {
				holders, err := info.holders(ctx, node, id)
				if err != nil {
					return nil, err
				}
				for _, h := range holders {
					a := info.action(KindRevoke, revoke, []string{id.Hex(), h.Hex()},
						fmt.Sprintf("Revokes %s from %s.", info.roleName(id), h.Hex()), "")
					a.ID += ":" + info.roleName(id) + ":" + h.Hex()
					actions = append(actions, a)
				}
			}
		}
	}
	methods := make([]abi.Method, 0, len(parsed.Methods))
	for _, m := range parsed.Methods {
		methods = append(methods, m)
	}
	slices.SortFunc(methods, func(a, b abi.Method) int { return strings.Compare(a.Sig, b.Sig) })
	for _, m := range methods {
		if m.IsConstant() || len(m.Inputs) != 1 || m.Inputs[0].Type.T != abi.AddressTy || !blockListName.MatchString(m.RawName) {
			continue
		}
		actions = append(actions, info.action(KindBlockList, m, nil, fmt.Sprintf("Calls %s on an account (a block-list function).", m.RawName), ""))
	}
	for _, sig := range c.Emergency {
		m, err := decode.FindMethod(parsed, sig)
		if err != nil {
			return nil, fmt.Errorf("%w: emergency function of %s: %v", ErrInvalid, c.Address, err)
		}
		if slices.ContainsFunc(actions, func(a Action) bool { return a.Function == m.Sig && len(a.Args) == 0 }) {
			continue
		}
		actions = append(actions, info.action(KindMarked, m, nil, fmt.Sprintf("Calls %s (marked as an emergency function).", m.Sig), ""))
	}
	for i := range actions {
		role, err := info.probe(ctx, node, &actions[i])
		if err != nil {
			return nil, err
		}
		actions[i].Role = role
	}
	return actions, nil
}

func (info *contractInfo) action(kind string, m abi.Method, args []string, summary, state string) Action {
	a := Action{
		ID: info.c.Address.Hex() + ":" + m.Sig, Kind: kind, Contract: info.c.Address, ContractName: info.c.Name,
		Function: m.Sig, Inputs: []Input{}, Args: args, Summary: summary, State: state,
	}
	for i, in := range m.Inputs {
		name := in.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i+1)
		}
		a.Inputs = append(a.Inputs, Input{Name: name, Type: in.Type.String()})
	}
	return a
}

func (info *contractInfo) roleName(id common.Hash) string {
	if n, ok := info.roleNames[id]; ok {
		return n
	}
	return id.Hex()
}

// readRoleNames calls every X_ROLE() constant of the ABI.
func (info *contractInfo) readRoleNames(ctx context.Context, node Node) error {
	for _, m := range info.abi.Methods {
		if len(m.Inputs) != 0 || len(m.Outputs) != 1 || m.Outputs[0].Type.String() != "bytes32" || !strings.HasSuffix(m.RawName, "_ROLE") {
			continue
		}
		var id [32]byte
		if err := info.view(ctx, node, m.RawName, &id); err != nil {
			return err
		}
		info.roleNames[id] = m.RawName
	}
	return nil
}

// view calls a view function of the contract at the head block.
func (info *contractInfo) view(ctx context.Context, node Node, method string, out any, args ...any) error {
	data, err := info.abi.Pack(method, args...)
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", method, err)
	}
	ret, err := node.CallContract(ctx, ethereum.CallMsg{To: &info.c.Address, Data: data}, nil)
	if err != nil {
		return fmt.Errorf("cannot call %s of %s: %w", method, info.c.Address, err)
	}
	vals, err := info.abi.Unpack(method, ret)
	if err != nil || len(vals) != 1 {
		return fmt.Errorf("cannot read what %s of %s returned: %v", method, info.c.Address, err)
	}
	if err := info.abi.Methods[method].Outputs.Copy(out, vals); err != nil {
		return fmt.Errorf("cannot read what %s of %s returned: %w", method, info.c.Address, err)
	}
	return nil
}

// holders returns the accounts holding role id now: every account a
// RoleGranted event named, kept when hasRole still says so.
func (info *contractInfo) holders(ctx context.Context, node Node, id common.Hash) ([]common.Address, error) {
	logs, err := node.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: big.NewInt(0), Addresses: []common.Address{info.c.Address},
		Topics: [][]common.Hash{{topicRoleGranted, topicRoleRevoked}, {id}},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the role grants of %s: %w", info.c.Address, err)
	}
	var seen []common.Address
	for _, l := range logs {
		if len(l.Topics) < 3 || l.Removed {
			continue
		}
		acct := common.BytesToAddress(l.Topics[2][:])
		if !slices.Contains(seen, acct) {
			seen = append(seen, acct)
		}
	}
	var out []common.Address
	for _, acct := range seen {
		var has bool
		if err := info.view(ctx, node, "hasRole", &has, [32]byte(id), acct); err != nil {
			return nil, err
		}
		if has {
			out = append(out, acct)
		}
	}
	return out, nil
}

// owner returns owner() of the contract, when it has one.
func (info *contractInfo) owner(ctx context.Context, node Node) ([]common.Address, error) {
	if _, ok := info.abi.Methods["owner"]; !ok {
		return nil, nil
	}
	var owner common.Address
	if err := info.view(ctx, node, "owner", &owner); err != nil {
		return nil, err
	}
	if owner == (common.Address{}) {
		return nil, nil
	}
	return []common.Address{owner}, nil
}

// probe calls the action as a stranger and reads from the revert which
// role it needs, then who holds that role.
func (info *contractInfo) probe(ctx context.Context, node Node, a *Action) (Role, error) {
	m, err := decode.FindMethod(info.abi, a.Function)
	if err != nil {
		return Role{}, fmt.Errorf("BUG: action %s names no function of its ABI: %v", a.ID, err)
	}
	var data []byte
	if len(a.Args) == len(m.Inputs) {
		data, err = encodeArgs(m, a.Args)
	} else {
		// A template is probed with zero arguments.
		args, perr := m.Inputs.Pack(zeroArgs(m.Inputs)...)
		data, err = append(append([]byte(nil), m.ID...), args...), perr
	}
	if err != nil {
		return Role{}, fmt.Errorf("cannot encode a probe of %s: %w", a.ID, err)
	}
	return info.probeCall(ctx, node, a.Function, data)
}

// probeCall sends data to the contract as a stranger and reads from the
// revert which role the call needs, then who holds that role; fn names
// the call in errors.
func (info *contractInfo) probeCall(ctx context.Context, node Node, fn string, data []byte) (Role, error) {
	_, callErr := node.CallContract(ctx, ethereum.CallMsg{From: probeAddress, To: &info.c.Address, Data: data}, nil)
	if callErr == nil {
		return Role{Kind: RoleAnyone, Name: "anyone", Holders: []common.Address{}, Reason: "a call from an account without any role succeeds"}, nil
	}
	revert, ok := revertData(callErr)
	if !ok {
		return Role{}, fmt.Errorf("cannot probe %s of %s: %w", fn, info.c.Address, callErr)
	}
	rev := decode.Revert(revert, info.c.ABI)
	var roleID *common.Hash
	switch {
	case rev.Name == "AccessControlUnauthorizedAccount" && len(rev.Args) == 2:
		id := common.HexToHash(rev.Args[1].Value)
		roleID = &id
	case rev.Name == "OwnableUnauthorizedAccount" || strings.Contains(rev.Message, "Ownable: caller is not the owner"):
		holders, err := info.owner(ctx, node)
		if err != nil {
			return Role{}, err
		}
		return Role{Kind: RoleOwner, Name: "owner", Holders: nonNil(holders), Reason: "a stranger's call reverts with " + rev.Message}, nil
	default:
		if m := oldRoleMessage.FindStringSubmatch(rev.Message); m != nil {
			id := common.HexToHash(m[1])
			roleID = &id
		}
	}
	if roleID == nil {
		return Role{Kind: RoleUnknown, Name: "unknown", Holders: []common.Address{},
			Reason: "a stranger's call reverts with " + rev.Message + ", which names no role"}, nil
	}
	holders, err := info.holders(ctx, node, *roleID)
	if err != nil {
		return Role{}, err
	}
	return Role{Kind: RoleAccess, Name: info.roleName(*roleID), ID: roleID, Holders: nonNil(holders),
		Reason: "a stranger's call reverts with " + rev.Name}, nil
}

func nonNil(a []common.Address) []common.Address {
	if a == nil {
		return []common.Address{}
	}
	return a
}

// revertData returns the revert data of a failed eth_call.
func revertData(err error) ([]byte, bool) {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil, false
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return nil, false
	}
	b, err := hexutil.Decode(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// encodeArgs encodes a call of m with arguments written as text.
func encodeArgs(m abi.Method, args []string) ([]byte, error) {
	if len(args) != len(m.Inputs) {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", ErrInvalid, m.Sig, len(m.Inputs), len(args))
	}
	vals := make([]any, len(args))
	for i, in := range m.Inputs {
		v, err := decode.ParseArgText(in.Type, args[i])
		if err != nil {
			name := in.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			return nil, fmt.Errorf("%w: argument %s (%s): %v", ErrInvalid, name, in.Type, err)
		}
		vals[i] = v
	}
	return decode.PackCall(m, vals)
}

// zeroArgs returns the zero value of each input's Go type.
func zeroArgs(in abi.Arguments) []any {
	out := make([]any, len(in))
	for i, a := range in {
		out[i] = reflectZero(a.Type)
	}
	return out
}

func reflectZero(t abi.Type) any {
	v := reflect.New(t.GetType()).Elem()
	fillZero(v)
	return v.Interface()
}

// bigIntPtr is the Go type of 256-bit ABI integers.
var bigIntPtr = reflect.TypeFor[*big.Int]()

// fillZero sets every nil *big.Int reachable in v (fields, fixed arrays)
// to zero, which the ABI packer requires.
func fillZero(v reflect.Value) {
	switch {
	case v.Type() == bigIntPtr:
		v.Set(reflect.ValueOf(new(big.Int)))
	case v.Kind() == reflect.Array:
		for i := range v.Len() {
			fillZero(v.Index(i))
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fillZero(v.Field(i))
			}
		}
	}
}
