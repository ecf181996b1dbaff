package demo

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Roles of the keys returned by Keys, by index. Keys from FirstUser on are ordinary users.
const (
	Deployer   = 0 // deploys the app, owns the token and the price feed, may pause the vault
	Liquidator = 1 // liquidates unhealthy accounts
	Attacker   = 2 // tries the exploit during the incident
	FirstUser  = 3

	// DefaultKeyCount is the number of keys the demo uses (five users); Deploy seeds their token balances.
	DefaultKeyCount = 8
	// MinKeyCount is the fewest keys Traffic accepts: the three roles and two users.
	MinKeyCount = FirstUser + 2
)

// Keys returns n deterministic private keys derived from fixed seeds, so a genesis block
// can fund them ahead of time. The role of each index is given by the constants above.
func Keys(n int) []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		seed := crypto.Keccak256([]byte(fmt.Sprintf("blocktorch demo account %d", i)))
		k, err := crypto.ToECDSA(seed)
		if err != nil {
			// A keccak output is a valid secp256k1 scalar except with negligible probability,
			// and the seeds are fixed, so this cannot happen at run time.
			panic(fmt.Sprintf("BUG: demo key %d is not a valid private key: %v", i, err))
		}
		keys[i] = k
	}
	return keys
}

// Addresses returns the address of each key, in order.
func Addresses(keys []*ecdsa.PrivateKey) []common.Address {
	addrs := make([]common.Address, len(keys))
	for i, k := range keys {
		addrs[i] = crypto.PubkeyToAddress(k.PublicKey)
	}
	return addrs
}
