package decode

import (
	"embed"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// bundledFiles holds the ABI fragments of common standards, one file per
// standard, named after it. The name is what a custom error found there
// reports as its Contract.
//
//go:embed bundled/*.json
var bundledFiles embed.FS

// bundledOrder is the lookup order. Where two standards share a function
// selector the first wins: ERC-721's transferFrom(address,address,uint256)
// and approve(address,uint256) are the ERC-20 ones, so ERC721.json leaves
// them out. Events sharing topic0 are told apart by their indexed count.
var bundledOrder = []string{
	"ERC20", "ERC721", "ERC1155", "WETH", "Ownable", "Pausable", "AccessControl",
	"ReentrancyGuard", "ERC1967", "ChainlinkAggregator", "OpenZeppelinUtils",
}

// bundledABI parses the bundled table once; the result is never modified.
var bundledABI = sync.OnceValue(func() *contractABI {
	all := &contractABI{
		methods: make(map[[4]byte]*fragment),
		events:  make(map[common.Hash][]*fragment),
		errors:  make(map[[4]byte]*fragment),
	}
	for _, name := range bundledOrder {
		data, err := bundledFiles.ReadFile("bundled/" + name + ".json")
		if err != nil {
			panic(fmt.Sprintf("BUG: bundled ABI %s: %v", name, err))
		}
		c, err := parseABI(name, data)
		if err != nil {
			panic(fmt.Sprintf("BUG: bundled ABI %s: %v", name, err))
		}
		for sel, f := range c.methods {
			if _, dup := all.methods[sel]; !dup {
				all.methods[sel] = f
			}
		}
		for sel, f := range c.errors {
			if _, dup := all.errors[sel]; !dup {
				all.errors[sel] = f
			}
		}
		for id, fs := range c.events {
			all.events[id] = append(all.events[id], fs...)
		}
	}
	return all
})
