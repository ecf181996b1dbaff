package web

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite help.txt from internal/query's doc")

// TestHelpMatchesQueryDoc keeps the syntax help on Explore equal to the
// query package's documentation.
func TestHelpMatchesQueryDoc(t *testing.T) {
	src, err := os.ReadFile("../query/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(l, "//") {
			continue
		}
		l = strings.TrimPrefix(strings.TrimPrefix(l, "//"), " ")
		if l == "# Syntax" {
			in = true
		}
		if in {
			lines = append(lines, l)
		}
	}
	want := strings.TrimSpace(strings.Join(lines, "\n")) + "\n"
	if *update {
		if err := os.WriteFile("help.txt", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if helpText != want {
		t.Fatal("help.txt differs from internal/query/doc.go; run go test ./internal/web -run TestHelpMatchesQueryDoc -update")
	}
	blocks := parseHelp(helpText)
	var heads []string
	for _, b := range blocks {
		if b.Kind == "h" {
			heads = append(heads, b.Text)
		}
	}
	if strings.Join(heads, ",") != "Syntax,Grammar,Fields,Pipes,Limits" {
		t.Fatalf("help headings = %v", heads)
	}
}
