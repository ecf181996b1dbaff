// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// OpenZeppelin's proxies as published, compiled with the vaults: ERC1967Proxy (UUPS) and
// TransparentUpgradeableProxy, which deploys its own ProxyAdmin.
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
