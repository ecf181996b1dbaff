// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TraceBench
/// @notice A heavy transaction for the trace benchmark: a loop of storage writes, hashes and
/// nested calls, sized by its argument.
contract TraceBench {
    mapping(uint256 => uint256) public slots;
    uint256 public total;

    /// @notice Runs `rounds` rounds; every round hashes, writes one of 64 slots, and every
    /// fourth round calls `mix` on itself.
    function work(uint256 rounds) external returns (bytes32 h) {
        for (uint256 i = 0; i < rounds; i++) {
            h = keccak256(abi.encodePacked(h, i));
            slots[i % 64] = uint256(h);
            if (i % 4 == 0) {
                total += this.mix(h, i);
            }
        }
    }

    /// @notice Hashes `h` with `i` a few times and returns the low byte.
    function mix(bytes32 h, uint256 i) external pure returns (uint256) {
        for (uint256 k = 0; k < 4; k++) {
            h = keccak256(abi.encode(h, i, k));
        }
        return uint256(h) & 0xff;
    }
}
