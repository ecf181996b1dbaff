package postgres

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) (a, b store.SessionStore) {
		x, y := openTwo(t)
		t.Cleanup(func() { x.Close(); y.Close() })
		return x, y
	})
}

func TestAccounts(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) (a, b storetest.AccountBackend) {
		x, y := openTwo(t)
		t.Cleanup(func() { x.Close(); y.Close() })
		return x, y
	})
}
