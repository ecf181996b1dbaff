package sqlite

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestResponseRunSuite(t *testing.T) {
	storetest.RunResponseRuns(t, func(t *testing.T) storetest.ResponseRunBackend { return openTemp(t) })
}

func TestSafeProposalSuite(t *testing.T) {
	storetest.RunSafeProposals(t, func(t *testing.T) storetest.SafeProposalBackend { return openTemp(t) })
}
