package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// export refuses a source that is not there with a message saying so,
// exit 1, and never prints the target's password; --to must be a
// PostgreSQL URL.
func TestExportCommandErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	t.Setenv("BLOCKTORCH_DB", "")
	code, out, errOut := runCLI(t, "export", "--data", missing, "--to", "postgres://bt:s3cret@127.0.0.1:1/bt")
	if code != 1 || !strings.Contains(errOut, "does not exist") || !strings.Contains(errOut, filepath.Join(missing, "blocktorch.db")) ||
		strings.Contains(out+errOut, "s3cret") {
		t.Errorf("export from a missing store: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "export", "--to", "mysql://bt:s3cret@h/bt")
	if code != 2 || !strings.Contains(errOut, "want a postgres://") || strings.Contains(errOut, "s3cret") {
		t.Errorf("export --to mysql://: exit %d, stderr %q", code, errOut)
	}
	// The target can come from BLOCKTORCH_DB, out of ps.
	t.Setenv("BLOCKTORCH_DB", "postgres://bt:s3cret@127.0.0.1:1/bt")
	code, _, errOut = runCLI(t, "export", "--db", "sqlite:"+filepath.Join(missing, "x.db"))
	if code != 1 || !strings.Contains(errOut, "does not exist") || strings.Contains(errOut, "s3cret") {
		t.Errorf("export with BLOCKTORCH_DB: exit %d, stderr %q", code, errOut)
	}
}
