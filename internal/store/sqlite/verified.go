package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.VerifiedStore = (*DB)(nil)

// PutVerified inserts or replaces the verification of v.Address and links
// its sources, storing each distinct text once. Texts no contract links to
// any more are deleted in the same transaction.
func (db *DB) PutVerified(ctx context.Context, v store.VerifiedContract) error {
	if v.Status != store.VerifiedFull && v.Status != store.VerifiedPartial {
		return fmt.Errorf("cannot store the verification of %s: %w: status %q is neither %q nor %q",
			v.Address, store.ErrInvalid, v.Status, store.VerifiedFull, store.VerifiedPartial)
	}
	if !json.Valid(v.Result) {
		return fmt.Errorf("cannot store the verification of %s: %w: its result is not JSON", v.Address, store.ErrInvalid)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// The texts the previous verification linked, to drop those left
		// without a contract.
		old, err := hashesOf(ctx, tx, v.Address)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM verified_contracts WHERE address = ?`, v.Address[:]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO verified_contracts
			(address, status, contract_name, source_name, compiler, result, verified) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			v.Address[:], v.Status, v.ContractName, v.SourceName, v.Compiler, string(v.Result), v.Verified.UnixMicro()); err != nil {
			return err
		}
		units := make([]string, 0, len(v.Sources))
		for u := range v.Sources {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			h := sha256.Sum256([]byte(v.Sources[u]))
			if _, err := tx.ExecContext(ctx, `INSERT INTO verified_sources (hash, content) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`,
				h[:], v.Sources[u]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO verified_contract_sources (address, unit, hash) VALUES (?, ?, ?)`,
				v.Address[:], u, h[:]); err != nil {
				return err
			}
		}
		for _, h := range old {
			if _, err := tx.ExecContext(ctx, `DELETE FROM verified_sources WHERE hash = ?
				AND NOT EXISTS (SELECT 1 FROM verified_contract_sources WHERE hash = ?)`, h, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot store the verification of %s: %w", v.Address, translate(err))
	}
	db.changed(store.ChangeVerified, v.Address.Hex())
	return nil
}

func hashesOf(ctx context.Context, tx *sql.Tx, addr common.Address) ([][]byte, error) {
	rows, err := tx.QueryContext(ctx, `SELECT hash FROM verified_contract_sources WHERE address = ?`, addr[:])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hs [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, rows.Err()
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Verified returns the verification of addr with its sources.
func (db *DB) Verified(ctx context.Context, addr common.Address) (store.VerifiedContract, error) {
	var found *store.VerifiedContract
	err := db.eachVerified(ctx, &addr, func(v store.VerifiedContract) error {
		found = &v
		return nil
	})
	if err != nil {
		return store.VerifiedContract{}, fmt.Errorf("cannot read the verification of %s: %w", addr, err)
	}
	if found == nil {
		return store.VerifiedContract{}, fmt.Errorf("cannot read the verification of %s: %w", addr, store.ErrNotFound)
	}
	return *found, nil
}

// EachVerified calls fn with every verification, ordered by address.
func (db *DB) EachVerified(ctx context.Context, fn func(store.VerifiedContract) error) error {
	var fnErr error
	err := db.eachVerified(ctx, nil, func(v store.VerifiedContract) error {
		fnErr = fn(v)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("cannot list verified contracts: %w", err)
	}
	return nil
}

// eachVerified walks the verifications (of one address when only is set)
// in one read transaction: the texts first, each read once, then the links,
// then the contracts, so that memory holds one copy of each text.
func (db *DB) eachVerified(ctx context.Context, only *common.Address, fn func(store.VerifiedContract) error) error {
	rtx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	defer rtx.Rollback()

	where, args := "", []any(nil)
	if only != nil {
		where, args = " WHERE address = ?", []any{only[:]}
	}
	texts := map[[sha256.Size]byte]string{}
	err = eachRow(ctx, rtx, `SELECT hash, content FROM verified_sources WHERE hash IN
		(SELECT hash FROM verified_contract_sources`+where+`)`, args, func(rows *sql.Rows) error {
		var (
			h       []byte
			content string
		)
		if err := rows.Scan(&h, &content); err != nil {
			return err
		}
		if len(h) != sha256.Size {
			return fmt.Errorf("a source text has a hash of %d bytes", len(h))
		}
		texts[[sha256.Size]byte(h)] = content
		return nil
	})
	if err != nil {
		return err
	}
	sources := map[common.Address]map[string]string{}
	err = eachRow(ctx, rtx, `SELECT address, unit, hash FROM verified_contract_sources`+where, args, func(rows *sql.Rows) error {
		var (
			a, h []byte
			unit string
		)
		if err := rows.Scan(&a, &unit, &h); err != nil {
			return err
		}
		if len(h) != sha256.Size {
			return fmt.Errorf("source %s of %x has a hash of %d bytes", unit, a, len(h))
		}
		addr := common.BytesToAddress(a)
		if sources[addr] == nil {
			sources[addr] = map[string]string{}
		}
		sources[addr][unit] = texts[[sha256.Size]byte(h)]
		return nil
	})
	if err != nil {
		return err
	}
	var fnErr error
	err = eachRow(ctx, rtx, `SELECT address, status, contract_name, source_name, compiler, result, verified
		FROM verified_contracts`+where+` ORDER BY address`, args, func(rows *sql.Rows) error {
		var (
			v        store.VerifiedContract
			a        []byte
			result   string
			verified int64
		)
		if err := rows.Scan(&a, &v.Status, &v.ContractName, &v.SourceName, &v.Compiler, &result, &verified); err != nil {
			return err
		}
		v.Address = common.BytesToAddress(a)
		v.Result = json.RawMessage(result)
		v.Verified = time.UnixMicro(verified).UTC()
		v.Sources = sources[v.Address]
		if v.Sources == nil {
			v.Sources = map[string]string{}
		}
		fnErr = fn(v)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return translate(err)
}

// eachRow runs a query and calls fn for each row.
func eachRow(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
