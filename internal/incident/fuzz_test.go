package incident_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/incident"
)

func isPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// FuzzEscapeMarkdown checks that escaped text reads back as the original
// (UnescapeMarkdown is CommonMark's rule for backslash escapes) and that no
// ASCII punctuation is left bare, so none can start Markdown or HTML.
func FuzzEscapeMarkdown(f *testing.F) {
	for _, s := range []string{"", "plain", hostile, `\`, `\\*`, "a\\", "<b>x</b>", "[x](javascript:alert(1))",
		"# h\n- l\n1. n\n> q", "é ü \u2028 \x00", "`code`", "&amp; &#60;", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := incident.EscapeMarkdown(s)
		if got := incident.UnescapeMarkdown(e); got != s {
			t.Fatalf("Unescape(Escape(%q)) = %q", s, got)
		}
		for i := 0; i < len(e); i++ {
			switch {
			case e[i] == '\\':
				if i+1 >= len(e) || !isPunct(e[i+1]) {
					t.Fatalf("Escape(%q) = %q: a backslash at %d escapes nothing", s, e, i)
				}
				i++
			case isPunct(e[i]):
				t.Fatalf("Escape(%q) = %q: bare %q at %d", s, e, e[i], i)
			}
		}
		if utf8.ValidString(s) != utf8.ValidString(e) || strings.Count(e, "\n") != strings.Count(s, "\n") {
			t.Fatalf("Escape(%q) = %q changed more than punctuation", s, e)
		}
	})
}
