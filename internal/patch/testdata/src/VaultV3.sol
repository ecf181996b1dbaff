// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";

/// @title VaultV3
/// @notice A LendingVault-like vault behind an ERC-1967 proxy: ETH deposits, a credit line of
/// half the deposit, repayments. V3 fixes it like V2 but declares its flag first, which moves every variable.
contract VaultV3 is Initializable, UUPSUpgradeable {
    bool private withdrawing;
    address public owner;
    mapping(address => uint256) public balanceOf;
    mapping(address => uint256) public debtOf;
    uint256 public totalDeposits;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Borrowed(address indexed account, uint256 amount);
    event Repaid(address indexed account, uint256 amount);

    constructor() {
        _disableInitializers();
    }

    function initialize(address owner_) external initializer {
        owner = owner_;
    }

    function deposit() external payable {
        require(msg.value > 0, "Vault: zero deposit");
        balanceOf[msg.sender] += msg.value;
        totalDeposits += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        require(!withdrawing, "Vault: withdraw entered again");
        withdrawing = true;
        require(balanceOf[msg.sender] >= amount, "Vault: withdraw exceeds balance");
        (bool ok, bytes memory ret) = msg.sender.call{value: amount}("");
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        unchecked {
            balanceOf[msg.sender] -= amount;
        }
        totalDeposits -= amount;
        withdrawing = false;
        emit Withdrawn(msg.sender, amount);
    }

    function borrow(uint256 amount) external {
        require(debtOf[msg.sender] + amount <= balanceOf[msg.sender] / 2, "Vault: over the credit line");
        debtOf[msg.sender] += amount;
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "Vault: transfer failed");
        emit Borrowed(msg.sender, amount);
    }

    function repay() external payable {
        debtOf[msg.sender] -= msg.value;
        emit Repaid(msg.sender, msg.value);
    }

    function _authorizeUpgrade(address) internal view override {
        require(msg.sender == owner, "Vault: not the owner");
    }
}
