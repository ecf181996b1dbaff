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
