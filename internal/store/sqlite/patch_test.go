package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestPatchCheckSuite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blocktorch.db")
	storetest.RunPatchChecks(t, func(t *testing.T, reopen bool) storetest.PatchCheckBackend {
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
