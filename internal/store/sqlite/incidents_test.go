package sqlite

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestIncidentSuite(t *testing.T) {
	storetest.RunIncidents(t, func(t *testing.T) storetest.IncidentBackend { return openTemp(t) })
}
