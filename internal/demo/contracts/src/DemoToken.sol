// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title DemoToken
/// @notice A dollar-pegged ERC-20 that the LendingVault lends out. Only the owner mints.
contract DemoToken is ERC20, Ownable {
    constructor(address initialOwner) ERC20("Demo Dollar", "DUSD") Ownable(initialOwner) {}

    /// @notice Creates `amount` tokens for `to`.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
