package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

// PutContract inserts or replaces the contract at c.Address. Added is kept
// to the microsecond.
func (db *DB) PutContract(ctx context.Context, c store.Contract) error {
	if !json.Valid(c.ABI) {
		return fmt.Errorf("cannot store contract %s: %w: its ABI is not JSON", c.Address, store.ErrInvalid)
	}
	_, err := db.execNotify(ctx, store.ChangeContracts, c.Address.Hex(), `INSERT INTO contracts (address, name, abi, origin, added) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (address) DO UPDATE SET name = excluded.name, abi = excluded.abi,
			origin = excluded.origin, added = excluded.added`,
		c.Address[:], c.Name, string(c.ABI), c.Origin, c.Added.UnixMicro())
	if err != nil {
		return fmt.Errorf("cannot store contract %s: %w", c.Address, translate(err))
	}
	return nil
}

// Contract returns the contract at addr.
func (db *DB) Contract(ctx context.Context, addr common.Address) (store.Contract, error) {
	c, err := scanContract(db.pool.QueryRow(ctx,
		`SELECT address, name, abi, origin, added FROM contracts WHERE address = $1`, addr[:]))
	if err != nil {
		return store.Contract{}, fmt.Errorf("cannot read contract %s: %w", addr, err)
	}
	return c, nil
}

// Contracts returns every known contract, ordered by address.
func (db *DB) Contracts(ctx context.Context) ([]store.Contract, error) {
	rows, err := db.pool.Query(ctx, `SELECT address, name, abi, origin, added FROM contracts ORDER BY address`)
	if err != nil {
		return nil, fmt.Errorf("cannot list contracts: %w", translate(err))
	}
	defer rows.Close()
	cs := []store.Contract{}
	for rows.Next() {
		c, err := scanContract(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list contracts: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list contracts: %w", translate(err))
	}
	return cs, nil
}

func scanContract(row pgx.Row) (store.Contract, error) {
	var (
		c     store.Contract
		addr  []byte
		abi   string
		added int64
	)
	if err := row.Scan(&addr, &c.Name, &abi, &c.Origin, &added); err != nil {
		return c, translate(err)
	}
	c.Address = common.BytesToAddress(addr)
	c.ABI = json.RawMessage(abi)
	c.Added = time.UnixMicro(added).UTC()
	return c, nil
}
