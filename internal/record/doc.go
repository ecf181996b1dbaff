// Package record defines the one record model that everything searchable
// shares: indexed chain data (transactions, decoded events, reverts) and
// off-chain application, security and system logs. It is a leaf.
package record
