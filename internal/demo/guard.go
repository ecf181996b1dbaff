package demo

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
)

// GuardMonitors is the monitor the demo ships for its mempool guard (monitors YAML): one
// borrow that takes at least a tenth of the vault's liquidity, as the incident's exploit does.
// Ordinary borrows in the demo are a few thousand DUSD.
const GuardMonitors = `monitors:
  - id: demo.vault-drain
    name: Vault drained by one borrow
    description: One borrow took at least 1,000,000 DUSD (a tenth of the lending vault's liquidity).
    kind: event
    contract: LendingVault
    event: Borrowed
    where: ["amount >= 1e24"]
    groupBy: [contract]
    severity: critical
`

// GuardScenarios is the scenario the demo ships with GuardMonitors (response scenarios
// YAML): pause the vault. Started by the guard on the pending borrow, its pause is sent with
// a higher priority fee than the borrow's, so that it lands first.
const GuardScenarios = `scenarios:
  - name: pause-vault
    description: Pause the lending vault when one borrow drains it.
    monitors: [demo.vault-drain]
    actions:
      - contract: LendingVault
        action: pause
`

// GuardianKey is the key of the demo's guardian: an account holding the vault's PAUSER_ROLE
// that the product signs its response actions with (the guard's pause). It is funded at
// genesis, like the other demo accounts.
func GuardianKey() *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("blocktorch demo guardian")))
	if err != nil {
		panic(fmt.Sprintf("BUG: the demo guardian key is not a valid private key: %v", err))
	}
	return k
}
