package main

import (
	"strings"
	"testing"
)

// FuzzParseInterspersed checks that the command-line parser never panics
// and returns the positional arguments in their order, each an argument
// it was given that is not a flag, or anything after "--".
func FuzzParseInterspersed(f *testing.F) {
	f.Add("q\x00--limit\x003")
	f.Add("--since\x0024h\x00q\x00--json")
	f.Add("--\x00-level:error\x00--json")
	f.Add("-\x00--limit=x\x00a")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		fs := querySpec.newFlags()
		var qf queryFlags
		qf.register(fs, true)
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return
		}
		i, dashes := 0, false
		for _, p := range pos {
			for i < len(args) && args[i] != p {
				dashes = dashes || args[i] == "--"
				i++
			}
			if i == len(args) {
				t.Fatalf("positional %q is not among %q in order (got %q)", p, args, pos)
			}
			if !dashes && len(p) > 1 && p[0] == '-' && p != "--" {
				t.Fatalf("flag-like %q returned as positional before any --: %q -> %q", p, args, pos)
			}
			i++
		}
	})
}

// FuzzTimeArg checks that --since and --until values either are refused or
// reach the API as given, a duration prefixed with "now-".
func FuzzTimeArg(f *testing.F) {
	for _, s := range []string{"15m", "7d", "2026-01-02T15:04:05Z", "1767225600", "banana", "now-15m", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := timeArg(s)
		if err != nil {
			return
		}
		if at != s && at != "now-"+s {
			t.Fatalf("timeArg(%q) = %q", s, at)
		}
	})
}
