// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title Failures
/// @notice One function per way a transaction fails, so the debugger can show where each one
/// comes from: a require message, a custom error, an arithmetic panic, running out of gas, a
/// revert deep in a call chain, and a failure that is caught before a later, unrelated revert.
contract Failures {
    error Refused(address caller, uint256 code);
    error LaterFailure(uint256 code);

    event Caught(bytes reason);
    event Stored(uint256 value);

    uint256 public counter;

    /// @notice Stores `x`, then refuses values of 100 or less with a message.
    function requireString(uint256 x) external {
        counter = x;
        emit Stored(x);
        require(x > 100, "Failures: x too small");
    }

    /// @notice Always reverts with a custom error carrying `code`.
    function customError(uint256 code) external {
        counter = code;
        revert Refused(msg.sender, code);
    }

    /// @notice Adds `x` to the largest uint256: panics (0x11) for any x > 0.
    function overflow(uint256 x) external pure returns (uint256) {
        uint256 y = type(uint256).max;
        return y + x;
    }

    /// @notice Divides `a` by `b`: panics (0x12) when b is zero.
    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    /// @notice Loops until the gas runs out.
    function burnGas() external {
        while (true) { unchecked { counter += 1; } }
    }

    /// @notice Calls itself `depth` times; the innermost call reverts and every caller re-raises it.
    function nest(uint256 depth) external returns (uint256) {
        if (depth == 0) {
            revert Refused(msg.sender, 3);
        }
        return this.nest(depth - 1) + 1;
    }

    /// @notice Calls customError and catches its failure, then fails on its own when `x` is not zero.
    function catchThenRevert(uint256 x) external {
        try this.customError(x) {
            counter = 1;
        } catch (bytes memory reason) {
            emit Caught(reason);
        }
        require(x == 0, "Failures: later revert");
    }

    /// @notice Makes a low-level call that fails and handles the false, then reverts on its own.
    function lowLevelThenRevert(uint256 x) external {
        (bool ok, ) = address(this).call(abi.encodeCall(this.customError, (x)));
        if (!ok) {
            counter = 7;
        }
        revert LaterFailure(x);
    }
}

/// @title FailuresProxy
/// @notice An EIP-1967 proxy in front of a Failures implementation: calls run the
/// implementation's code by DELEGATECALL against the proxy's storage. `data` is the
/// initializing call made through the proxy at construction.
contract FailuresProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) ERC1967Proxy(implementation, data) {}
}
