package sqlbuild

import (
	"fmt"
	"strings"
	"testing"
)

func TestAttrPath(t *testing.T) {
	for _, tt := range []struct {
		path string
		want string
	}{
		{"user", "[[user]]"},
		{"user.id", "[[user id] [user.id]]"},
		{"http.response.status_code", "[[http response status_code] [http.response status_code] [http response.status_code] [http.response.status_code]]"},
		{"a.b.c.d", "[[a b c d] [a.b c d] [a b.c d] [a b c.d] [a.b.c d] [a.b c.d] [a b.c.d] [a.b.c.d]]"},
		// Past maxSplitSegments, the fully nested and fully flat shapes.
		{"a.b.c.d.e.f.g", "[[a b c d e f g] [a.b.c.d.e.f.g]]"},
	} {
		got := fmt.Sprint(attrPath(strings.Split(tt.path, ".")))
		if got != tt.want {
			t.Errorf("attrPath(%s) = %s, want %s", tt.path, got, tt.want)
		}
	}
	if n := len(attrPath(strings.Split("a.b.c.d.e.f", "."))); n != 32 {
		t.Errorf("a 6-segment path has %d candidates, want 32", n)
	}
}
