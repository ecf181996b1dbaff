// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LendingVault} from "./LendingVault.sol";
import {PriceFeed} from "./PriceFeed.sol";

/// @title Attacker
/// @notice Tries to drain the vault by re-entering withdraw from its ETH callback, and
/// tries the privileged calls it has no right to make. Every attempt is expected to revert.
contract Attacker {
    LendingVault public immutable vault;
    PriceFeed public immutable feed;
    address public immutable owner;
    bool private attacking;

    constructor(LendingVault vault_, PriceFeed feed_) {
        vault = vault_;
        feed = feed_;
        owner = msg.sender;
    }

    /// @notice Deposits the sent ETH, then withdraws it and re-enters withdraw from receive().
    function attack() external payable {
        require(msg.sender == owner, "Attacker: not owner");
        vault.deposit{value: msg.value}();
        attacking = true;
        vault.withdraw(msg.value);
        attacking = false;
    }

    /// @notice Tries to freeze the vault.
    function pauseVault() external {
        vault.pause();
    }

    /// @notice Tries to push a price of its choosing.
    function pushPrice(int256 answer) external {
        feed.updateAnswer(answer);
    }

    receive() external payable {
        if (attacking) {
            vault.withdraw(msg.value);
        }
    }
}
