package sqlite

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestDashboardSuite(t *testing.T) {
	storetest.RunDashboards(t, func(t *testing.T) storetest.DashboardBackend { return openTemp(t) })
}
