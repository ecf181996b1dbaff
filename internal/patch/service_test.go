package patch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// With a store, a check's permalink outlives the server: a finished
// check's report and a refused check's error read back the same after a
// restart, a check cut short by the restart reads as ended with an error
// saying so, and the oldest finished checks are pruned.
func TestServiceKeepsChecksAcrossRestarts(t *testing.T) {
	h := history(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "blocktorch.db")
	open := func() *sqlite.DB {
		t.Helper()
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	var saveErrs []error
	svc := &patch.Service{Checker: checker(t, h), Store: db, StoreKeep: 2, OnError: func(err error) { saveErrs = append(saveErrs, err) }}
	wait := func(svc *patch.Service, id string) patch.Run {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		r, err := svc.Wait(wctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	checked, err := svc.Start(ctx, patch.Request{Artifacts: artifacts(t), Contract: "VaultV2", Target: h.proxy, Txs: []common.Hash{h.exploit}}, "the exploit")
	if err != nil {
		t.Fatal(err)
	}
	before := wait(svc, checked)
	if before.Report == nil || before.Report.Summary.NowFails != 1 {
		t.Fatalf("the check: %+v", before)
	}
	refused, err := svc.Start(ctx, patch.Request{Artifacts: artifacts(t), Contract: "VaultV2", Txs: []common.Hash{h.exploit}}, "")
	if err != nil {
		t.Fatal(err)
	}
	refusedRun := wait(svc, refused)
	// A check the server was running when it stopped.
	cut := patch.Run{ID: "0123456789abcdef", Target: h.proxy, Set: "incident:1", Started: time.Now().UTC()}
	b, _ := json.Marshal(cut)
	if err := db.PutPatchCheck(ctx, store.PatchCheck{ID: cut.ID, Target: cut.Target.Hex(), Started: cut.Started, Run: b}); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(saveErrs) > 0 {
		t.Fatalf("saving: %v", saveErrs)
	}

	db = open()
	t.Cleanup(func() { db.Close() })
	svc = &patch.Service{Checker: checker(t, h), Store: db, StoreKeep: 2}
	after, err := svc.Get(ctx, checked)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(before.Report)
	got, _ := json.Marshal(after.Report)
	if !after.Done || after.Set != "the exploit" || after.Target != h.proxy || !bytes.Equal(got, want) {
		t.Errorf("after a restart the check reads %+v\nreport %s\nwant %s", after, got, want)
	}
	if r, err := svc.Get(ctx, refused); err != nil || r.Error != refusedRun.Error || r.ErrorKind != "invalid" || r.Report != nil {
		t.Errorf("the refused check after a restart: %+v (%v), want error %q", r, err, refusedRun.Error)
	}
	if r, err := svc.Get(ctx, cut.ID); err != nil || !r.Done || !strings.Contains(r.Error, "stopped before this check ended") {
		t.Errorf("the check cut short: %+v (%v)", r, err)
	}
	if _, err := svc.Get(ctx, "feedfacefeedface"); !errors.Is(err, patch.ErrNotFound) || !strings.Contains(err.Error(), "run it again") {
		t.Errorf("an unknown check: %v", err)
	}

	// Two more finished checks: with StoreKeep 2 the first ones go.
	for range 2 {
		id, err := svc.Start(ctx, patch.Request{Artifacts: artifacts(t), Contract: "VaultV2", Txs: []common.Hash{h.exploit}}, "")
		if err != nil {
			t.Fatal(err)
		}
		wait(svc, id)
	}
	svc.Close()
	if _, err := db.PatchCheck(ctx, checked); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the oldest check is still stored after pruning to 2: %v", err)
	}
	if _, err := db.PatchCheck(ctx, cut.ID); err != nil {
		t.Errorf("the unfinished check was pruned: %v", err)
	}
}
