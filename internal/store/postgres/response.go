package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.ResponseRunStore = (*DB)(nil)

// Contracts of a run are kept as " 0xa… 0xb… " in lower case, so that a
// contract filter is one strpos() on " 0x… " whatever the case asked.
func runContracts(cs []string) string {
	if len(cs) == 0 {
		return " "
	}
	return " " + strings.ToLower(strings.Join(cs, " ")) + " "
}

// AddResponseRun stores a finished run.
func (db *DB) AddResponseRun(ctx context.Context, r store.ResponseRun) (store.ResponseRun, error) {
	if r.Trigger == "" || r.Status == "" {
		return r, fmt.Errorf("cannot record a response run: %w: no trigger or status", store.ErrInvalid)
	}
	steps := string(r.Steps)
	if steps == "" {
		steps = "[]"
	}
	err := db.pool.QueryRow(ctx, `INSERT INTO response_runs (scenario, trigger, dry_run, status, error,
		contracts, started, finished, steps) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, r.Scenario, r.Trigger, boolInt(r.DryRun),
		r.Status, r.Error, runContracts(r.Contracts), unixNano(r.Started), unixNano(r.Finished), steps).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("cannot record a response run: %w", translate(err))
	}
	return r, nil
}

// ResponseRuns lists runs, newest first.
func (db *DB) ResponseRuns(ctx context.Context, q store.ResponseRunQuery) ([]store.ResponseRun, error) {
	if q.Limit < 0 {
		return nil, fmt.Errorf("cannot list response runs: %w: negative limit", store.ErrInvalid)
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	var a args
	where := []string{"TRUE"}
	if q.Contract != "" {
		where = append(where, "strpos(contracts, "+a.add(" "+strings.ToLower(q.Contract)+" ")+") > 0")
	}
	if q.Scenario != "" {
		where = append(where, "scenario = "+a.add(q.Scenario))
	}
	if q.Trigger != "" {
		where = append(where, "trigger = "+a.add(q.Trigger))
	}
	if q.RealOnly {
		where = append(where, "dry_run = 0")
	}
	rows, err := db.pool.Query(ctx, `SELECT id, scenario, trigger, dry_run, status, error, contracts, started,
		finished, steps FROM response_runs WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+a.add(q.Limit), a...)
	if err != nil {
		return nil, fmt.Errorf("cannot list response runs: %w", translate(err))
	}
	defer rows.Close()
	out := []store.ResponseRun{}
	for rows.Next() {
		var (
			r                 store.ResponseRun
			dry               int
			contracts, steps  string
			started, finished int64
		)
		if err := rows.Scan(&r.ID, &r.Scenario, &r.Trigger, &dry, &r.Status, &r.Error, &contracts, &started, &finished, &steps); err != nil {
			return nil, fmt.Errorf("cannot list response runs: %w", translate(err))
		}
		r.DryRun, r.Started, r.Finished, r.Steps = dry != 0, fromUnixNano(started), fromUnixNano(finished), []byte(steps)
		r.Contracts = strings.Fields(contracts)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list response runs: %w", translate(err))
	}
	return out, nil
}

var _ store.SafeProposalStore = (*DB)(nil)

// PutSafeProposal creates or replaces a proposed Safe transaction.
func (db *DB) PutSafeProposal(ctx context.Context, p store.SafeProposal) error {
	if p.Hash == "" || p.Safe == "" || len(p.Proposal) == 0 {
		return fmt.Errorf("cannot keep a Safe proposal: %w: no hash, Safe or proposal", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO safe_proposals (hash, safe, nonce, created, proposal) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (hash) DO UPDATE SET safe = excluded.safe, nonce = excluded.nonce, created = excluded.created, proposal = excluded.proposal`,
		strings.ToLower(p.Hash), strings.ToLower(p.Safe), int64(p.Nonce), unixNano(p.Created), string(p.Proposal))
	if err != nil {
		return fmt.Errorf("cannot keep Safe proposal %s: %w", p.Hash, translate(err))
	}
	return nil
}

// SafeProposal returns one proposed Safe transaction.
func (db *DB) SafeProposal(ctx context.Context, hash string) (store.SafeProposal, error) {
	ps, err := db.safeProposals(ctx, `hash = $1`, strings.ToLower(hash))
	if err != nil {
		return store.SafeProposal{}, err
	}
	if len(ps) == 0 {
		return store.SafeProposal{}, fmt.Errorf("Safe proposal %s: %w", hash, store.ErrNotFound)
	}
	return ps[0], nil
}

// SafeProposals lists a Safe's proposed transactions, newest first.
func (db *DB) SafeProposals(ctx context.Context, safe string) ([]store.SafeProposal, error) {
	return db.safeProposals(ctx, `safe = $1`, strings.ToLower(safe))
}

func (db *DB) safeProposals(ctx context.Context, where string, arg string) ([]store.SafeProposal, error) {
	rows, err := db.pool.Query(ctx, `SELECT hash, safe, nonce, created, proposal FROM safe_proposals WHERE `+where+
		` ORDER BY created DESC, hash`, arg)
	if err != nil {
		return nil, fmt.Errorf("cannot read Safe proposals: %w", translate(err))
	}
	defer rows.Close()
	out := []store.SafeProposal{}
	for rows.Next() {
		var (
			p        store.SafeProposal
			nonce    int64
			created  int64
			proposal string
		)
		if err := rows.Scan(&p.Hash, &p.Safe, &nonce, &created, &proposal); err != nil {
			return nil, fmt.Errorf("cannot read Safe proposals: %w", translate(err))
		}
		p.Nonce, p.Created, p.Proposal = uint64(nonce), fromUnixNano(created), []byte(proposal)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read Safe proposals: %w", translate(err))
	}
	return out, nil
}
