package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzETagMatches: any If-None-Match header is read without a panic, a
// header naming the tag (alone, weak, or in a list) matches, and a header
// that names no tag and is not "*" never matches.
func FuzzETagMatches(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `"x", "abc"`, `*`, ``, `,,`, `W/`, `"abc`} {
		f.Add(s, `"abc"`)
	}
	f.Fuzz(func(t *testing.T, header, tag string) {
		got := etagMatches(header, tag)
		if tag != "" && !strings.Contains(tag, ",") && strings.TrimSpace(tag) == tag && !strings.HasPrefix(tag, "W/") {
			for _, h := range []string{tag, "W/" + tag, `"zz", ` + tag, tag + ` , "zz"`} {
				if !etagMatches(h, tag) {
					t.Errorf("If-None-Match %q does not match %q", h, tag)
				}
			}
		}
		if got && !strings.Contains(header, "*") && (tag == "" || !strings.Contains(header, tag)) && strings.Trim(header, " ,W/") != "" {
			t.Errorf("If-None-Match %q matched %q, which it does not name", header, tag)
		}
	})
}

// FuzzActor: the name a client sends for the audit log comes back as one
// line of at most 100 characters, or "operator".
func FuzzActor(f *testing.F) {
	for _, s := range []string{"ana", "", "a\tb", strings.Repeat("é", 150), "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header[actorHeader] = []string{name}
		a := actor(r)
		if a == "" || !utf8.ValidString(a) || utf8.RuneCountInString(a) > 100 || strings.ContainsFunc(a, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			t.Errorf("actor(%q) = %q", name, a)
		}
	})
}
