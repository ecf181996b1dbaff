package sqlite

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestMonitorSuite(t *testing.T) {
	storetest.RunMonitors(t, func(t *testing.T) storetest.MonitorBackend { return openTemp(t) })
}
