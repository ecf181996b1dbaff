// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LendingVault} from "./LendingVault.sol";

/// @title Router
/// @notice One-transaction shortcuts over the LendingVault. Users first call
/// `vault.setOperator(router, true)` so the router may act for them.
contract Router {
    LendingVault public immutable vault;

    event BorrowSkipped(address indexed account, uint256 amount, bytes reason);

    constructor(LendingVault vault_) {
        vault = vault_;
    }

    /// @notice Deposits the sent ETH as the caller's collateral and borrows `amount` against it.
    function depositAndBorrow(uint256 amount) external payable {
        vault.depositFor{value: msg.value}(msg.sender);
        vault.borrowFor(msg.sender, amount);
    }

    /// @notice Repays `repayAmount` of the caller's debt (the caller must have approved the vault)
    /// and then withdraws `withdrawAmount` of collateral.
    function repayAndWithdraw(uint256 repayAmount, uint256 withdrawAmount) external {
        vault.repayFor(msg.sender, repayAmount);
        if (withdrawAmount > 0) {
            vault.withdrawFor(msg.sender, withdrawAmount);
        }
    }

    /// @notice Deposits the sent ETH, then borrows `amount` if the vault allows it;
    /// a refused borrow is reported in BorrowSkipped and the deposit stands.
    function depositAndTryBorrow(uint256 amount) external payable returns (bool borrowed) {
        vault.depositFor{value: msg.value}(msg.sender);
        try vault.borrowFor(msg.sender, amount) {
            return true;
        } catch (bytes memory reason) {
            emit BorrowSkipped(msg.sender, amount, reason);
            return false;
        }
    }
}
