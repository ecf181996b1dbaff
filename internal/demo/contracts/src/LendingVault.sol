// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title LendingVault
/// @notice Lends DemoToken against ETH collateral priced by a Chainlink-style feed.
/// Accounts may let an operator (such as the Router) act for them.
/// It runs behind an ERC-1967 proxy (OpenZeppelin's ERC1967Proxy) and upgrades itself the UUPS way:
/// the admin calls upgradeToAndCall on the proxy. Its state is set by initialize, not a constructor.
contract LendingVault is AccessControl, Pausable, ReentrancyGuard, Initializable, UUPSUpgradeable {
    using SafeERC20 for IERC20;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Share of the collateral value that may be borrowed.
    uint256 public constant LTV_PERCENT = 75;
    /// @notice Share of the collateral value above which a debt may be liquidated.
    uint256 public constant LIQUIDATION_THRESHOLD_PERCENT = 80;
    /// @notice Extra collateral a liquidator receives on top of the debt it repays.
    uint256 public constant LIQUIDATION_BONUS_PERCENT = 5;

    error InsufficientCollateral(address account, uint256 requested, uint256 maxBorrow);
    error StalePrice(uint256 updatedAt, uint256 maxAge);

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Borrowed(address indexed account, uint256 amount);
    event Repaid(address indexed account, address indexed payer, uint256 amount);
    event Liquidated(address indexed account, address indexed liquidator, uint256 debtRepaid, uint256 collateralSeized);
    event OperatorSet(address indexed account, address indexed operator, bool approved);
    event MaxPriceAgeSet(uint256 maxPriceAge);

    uint256 public maxPriceAge;

    mapping(address => uint256) public collateralOf;
    mapping(address => uint256) public debtOf;
    mapping(address => mapping(address => bool)) public isOperator;
    uint256 public totalCollateral;
    uint256 public totalDebt;
    // Set once, by initialize.
    IERC20 public token;
    AggregatorV3Interface public priceFeed;
    uint256 private priceUnit;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        // The implementation itself is never initialized: only the proxy's storage is.
        _disableInitializers();
    }

    /// @notice Sets the vault up in the proxy's storage; called once, by the proxy's constructor.
    function initialize(address admin, IERC20 token_, AggregatorV3Interface priceFeed_, uint256 maxPriceAge_)
        external
        initializer
    {
        token = token_;
        priceFeed = priceFeed_;
        priceUnit = 10 ** priceFeed_.decimals();
        maxPriceAge = maxPriceAge_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    modifier onlyAuthorized(address account) {
        require(msg.sender == account || isOperator[account][msg.sender], "Vault: caller is not an operator");
        _;
    }

    // ---- collateral ----

    function deposit() external payable {
        _deposit(msg.sender);
    }

    function depositFor(address account) external payable {
        _deposit(account);
    }

    function withdraw(uint256 amount) external {
        _withdraw(msg.sender, amount);
    }

    function withdrawFor(address account, uint256 amount) external onlyAuthorized(account) {
        _withdraw(account, amount);
    }

    // ---- debt ----

    function borrow(uint256 amount) external {
        _borrow(msg.sender, amount);
    }

    function borrowFor(address account, uint256 amount) external onlyAuthorized(account) {
        _borrow(account, amount);
    }

    function repay(uint256 amount) external {
        _repay(msg.sender, amount);
    }

    function repayFor(address account, uint256 amount) external onlyAuthorized(account) {
        _repay(account, amount);
    }

    /// @notice Repays all of an unhealthy account's debt and takes its collateral plus a bonus.
    function liquidate(address account) external nonReentrant whenNotPaused {
        uint256 debt = debtOf[account];
        require(healthFactor(account) < 1e18, "Vault: account is healthy");

        uint256 seized = (debt * (100 + LIQUIDATION_BONUS_PERCENT) / 100) * priceUnit / _price();
        if (seized > collateralOf[account]) {
            seized = collateralOf[account];
        }
        debtOf[account] = 0;
        totalDebt -= debt;
        collateralOf[account] -= seized;
        totalCollateral -= seized;

        token.safeTransferFrom(msg.sender, address(this), debt);
        Address.sendValue(payable(msg.sender), seized);
        emit Liquidated(account, msg.sender, debt, seized);
    }

    // ---- views ----

    /// @notice The most `account` may owe given its collateral at the current price.
    function maxBorrow(address account) public view returns (uint256) {
        return collateralValue(collateralOf[account]) * LTV_PERCENT / 100;
    }

    /// @notice The dollar value (18 decimals) of `amount` wei at the current price.
    function collateralValue(uint256 amount) public view returns (uint256) {
        return amount * _price() / priceUnit;
    }

    /// @notice Collateral value at the liquidation threshold per unit of debt, scaled by 1e18.
    /// Below 1e18 the account may be liquidated.
    function healthFactor(address account) public view returns (uint256) {
        uint256 limit = collateralValue(collateralOf[account]) * LIQUIDATION_THRESHOLD_PERCENT / 100;
        return limit * 1e18 / debtOf[account];
    }

    // ---- administration ----

    function setOperator(address operator, bool approved) external {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    function setMaxPriceAge(uint256 maxPriceAge_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxPriceAge = maxPriceAge_;
        emit MaxPriceAgeSet(maxPriceAge_);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @dev Only the admin may upgrade the vault (UUPSUpgradeable.upgradeToAndCall).
    function _authorizeUpgrade(address) internal override onlyRole(DEFAULT_ADMIN_ROLE) {}

    // ---- internals ----

    function _deposit(address account) private whenNotPaused {
        require(msg.value > 0, "Vault: zero deposit");
        collateralOf[account] += msg.value;
        totalCollateral += msg.value;
        emit Deposited(account, msg.value);
    }

    function _withdraw(address account, uint256 amount) private nonReentrant whenNotPaused {
        require(collateralOf[account] >= amount, "Vault: withdraw exceeds collateral");
        collateralOf[account] -= amount;
        totalCollateral -= amount;
        if (debtOf[account] > 0) {
            require(maxBorrow(account) >= debtOf[account], "Vault: withdraw would undercollateralize");
        }
        Address.sendValue(payable(account), amount);
        emit Withdrawn(account, amount);
    }

    function _borrow(address account, uint256 amount) private nonReentrant whenNotPaused {
        uint256 limit = maxBorrow(account);
        uint256 newDebt = debtOf[account] + amount;
        if (newDebt > limit) {
            revert InsufficientCollateral(account, newDebt, limit);
        }
        debtOf[account] = newDebt;
        totalDebt += amount;
        token.safeTransfer(account, amount);
        emit Borrowed(account, amount);
    }

    function _repay(address account, uint256 amount) private nonReentrant {
        debtOf[account] -= amount;
        totalDebt -= amount;
        token.safeTransferFrom(account, address(this), amount);
        emit Repaid(account, account, amount);
    }

    function _price() private view returns (uint256) {
        (, int256 answer,, uint256 updatedAt,) = priceFeed.latestRoundData();
        if (block.timestamp - updatedAt > maxPriceAge) {
            revert StalePrice(updatedAt, maxPriceAge);
        }
        require(answer > 0, "Vault: invalid price");
        return uint256(answer);
    }
}
