// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// OpenZeppelin's ERC1967Proxy as published, compiled with the vaults.
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
