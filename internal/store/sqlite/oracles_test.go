package sqlite

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestOracleSuite(t *testing.T) {
	storetest.RunOracles(t, func(t *testing.T) storetest.OracleBackend { return openTemp(t) })
}
