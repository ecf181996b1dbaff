package contracts

import (
	"bytes"
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// StorageReader reads a storage slot, as eth_getStorageAt.
type StorageReader interface {
	StorageAt(ctx context.Context, addr common.Address, slot common.Hash, block *big.Int) ([]byte, error)
}

// Caller runs a read-only call, as eth_call.
type Caller interface {
	CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error)
}

// Node is what Detect reads from a node. *ethclient.Client satisfies it.
type Node interface {
	CodeReader
	StorageReader
	Caller
}

// Proxy kinds.
const (
	ProxyEIP1967       = "eip1967"        // implementation in the EIP-1967 slot
	ProxyEIP1967Beacon = "eip1967-beacon" // beacon in the EIP-1967 slot, implementation from the beacon
	ProxyEIP1822       = "eip1822"        // UUPS, implementation in the PROXIABLE slot
	ProxyEIP1167       = "eip1167"        // minimal proxy (clone) bytecode
)

// Storage slots of the proxy standards.
var (
	// SlotEIP1967Implementation is bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1).
	SlotEIP1967Implementation = common.HexToHash("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc")
	// SlotEIP1967Admin is bytes32(uint256(keccak256("eip1967.proxy.admin")) - 1).
	SlotEIP1967Admin = common.HexToHash("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103")
	// SlotEIP1967Beacon is bytes32(uint256(keccak256("eip1967.proxy.beacon")) - 1).
	SlotEIP1967Beacon = common.HexToHash("0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50")
	// SlotEIP1822 is keccak256("PROXIABLE").
	SlotEIP1822 = common.HexToHash("0xc5f16f0fcc639fa48a6947836d9850f504798523bf8c9a3a87d5876cf622bcf7")
)

// Function selectors Detect looks for.
const (
	selOwner          = 0x8da5cb5b // owner()
	selPaused         = 0x5c975abb // paused()
	selHasRole        = 0x91d14854 // hasRole(bytes32,address)
	selGetRoleAdmin   = 0x248a9ca3 // getRoleAdmin(bytes32)
	selImplementation = 0x5c60da1b // implementation(), on a beacon
)

// EIP-1167 runtime code around the 20-byte implementation address.
var (
	minimalProxyPrefix = common.FromHex("0x363d3d373d3d3d363d73")
	minimalProxySuffix = common.FromHex("0x5af43d82803e903d91602b57fd5bf3")
)

// Proxy describes a detected proxy.
type Proxy struct {
	Kind           string          `json:"kind"`
	Implementation common.Address  `json:"implementation"`
	Admin          *common.Address `json:"admin,omitempty"`
	Beacon         *common.Address `json:"beacon,omitempty"`
}

// Ownable is a contract answering owner().
type Ownable struct {
	Owner common.Address `json:"owner"`
}

// Pausable is a contract answering paused().
type Pausable struct {
	Paused bool `json:"paused"`
}

// Capabilities are what Detect found at an address.
type Capabilities struct {
	Proxy    *Proxy    `json:"proxy,omitempty"`
	Ownable  *Ownable  `json:"ownable,omitempty"`
	Pausable *Pausable `json:"pausable,omitempty"`
	// AccessControl is true when the dispatcher has hasRole and
	// getRoleAdmin. Role holders come from RoleGranted/RoleRevoked events,
	// which are the caller's to list.
	AccessControl bool `json:"accessControl"`
}

// Detect reads what the contract at addr is: a proxy (EIP-1967, its beacon
// variant, EIP-1822 or an EIP-1167 clone), and whether it is Ownable,
// Pausable or AccessControl, with the live owner and paused state. For a
// proxy the function selectors are taken from the implementation's code and
// the calls go to the proxy. block nil means latest.
func Detect(ctx context.Context, node Node, addr common.Address, block *big.Int) (Capabilities, error) {
	var caps Capabilities
	code, err := node.CodeAt(ctx, addr, block)
	if err != nil {
		return caps, fmt.Errorf("cannot read the code at %s: %w", addr, err)
	}
	if len(code) == 0 {
		return caps, nil
	}
	caps.Proxy, err = detectProxy(ctx, node, addr, code, block)
	if err != nil {
		return caps, err
	}
	selectorCode := code
	if caps.Proxy != nil {
		impl, err := node.CodeAt(ctx, caps.Proxy.Implementation, block)
		if err != nil {
			return caps, fmt.Errorf("cannot read the implementation code at %s: %w", caps.Proxy.Implementation, err)
		}
		selectorCode = append(bytes.Clone(code), impl...)
	}
	sels := push4s(selectorCode[:len(selectorCode)-sourcemap.MetadataLength(selectorCode)])
	if sels[selOwner] {
		if out, ok := call(ctx, node, addr, selOwner, block); ok && isAddressWord(out) {
			caps.Ownable = &Ownable{Owner: common.BytesToAddress(out[12:32])}
		}
	}
	if sels[selPaused] {
		if out, ok := call(ctx, node, addr, selPaused, block); ok && len(out) == 32 && isBoolWord(out) {
			caps.Pausable = &Pausable{Paused: out[31] == 1}
		}
	}
	caps.AccessControl = sels[selHasRole] && sels[selGetRoleAdmin]
	return caps, nil
}

func detectProxy(ctx context.Context, node Node, addr common.Address, code []byte, block *big.Int) (*Proxy, error) {
	if len(code) == len(minimalProxyPrefix)+20+len(minimalProxySuffix) &&
		bytes.HasPrefix(code, minimalProxyPrefix) && bytes.HasSuffix(code, minimalProxySuffix) {
		return &Proxy{Kind: ProxyEIP1167, Implementation: common.BytesToAddress(code[len(minimalProxyPrefix) : len(minimalProxyPrefix)+20])}, nil
	}
	slot := func(s common.Hash) (*common.Address, error) {
		v, err := node.StorageAt(ctx, addr, s, block)
		if err != nil {
			return nil, fmt.Errorf("cannot read storage slot %s of %s: %w", s, addr, err)
		}
		if !isAddressWord(v) || common.BytesToAddress(v) == (common.Address{}) {
			return nil, nil
		}
		a := common.BytesToAddress(v)
		return &a, nil
	}
	impl, err := slot(SlotEIP1967Implementation)
	if err != nil {
		return nil, err
	}
	admin, err := slot(SlotEIP1967Admin)
	if err != nil {
		return nil, err
	}
	if impl != nil {
		return &Proxy{Kind: ProxyEIP1967, Implementation: *impl, Admin: admin}, nil
	}
	beacon, err := slot(SlotEIP1967Beacon)
	if err != nil {
		return nil, err
	}
	if beacon != nil {
		p := &Proxy{Kind: ProxyEIP1967Beacon, Beacon: beacon, Admin: admin}
		if out, ok := call(ctx, node, *beacon, selImplementation, block); ok && isAddressWord(out) {
			p.Implementation = common.BytesToAddress(out[12:32])
		}
		return p, nil
	}
	uups, err := slot(SlotEIP1822)
	if err != nil {
		return nil, err
	}
	if uups != nil {
		return &Proxy{Kind: ProxyEIP1822, Implementation: *uups, Admin: admin}, nil
	}
	return nil, nil
}

// call runs a no-argument view function; a reverted or failed call is "not there".
func call(ctx context.Context, node Caller, to common.Address, sel uint32, block *big.Int) ([]byte, bool) {
	data := []byte{byte(sel >> 24), byte(sel >> 16), byte(sel >> 8), byte(sel)}
	out, err := node.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data, Gas: 1_000_000}, block)
	return out, err == nil
}

// isAddressWord reports whether b is one 32-byte word holding an address
// (the 12 high bytes zero).
func isAddressWord(b []byte) bool {
	return len(b) == 32 && bytes.Equal(b[:12], make([]byte, 12))
}

func isBoolWord(b []byte) bool {
	return bytes.Equal(b[:31], make([]byte, 31)) && b[31] <= 1
}
