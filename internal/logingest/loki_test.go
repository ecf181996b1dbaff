package logingest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in   string
		want [][2]string
		err  string
	}{
		{`{}`, nil, ""},
		{`{a="1"}`, [][2]string{{"a", "1"}}, ""},
		{` { job="x" , msg="say \"hi\"\n", _b2 = "" } `, [][2]string{{"job", "x"}, {"msg", "say \"hi\"\n"}, {"_b2", ""}}, ""},
		{`{a="1",}`, [][2]string{{"a", "1"}}, ""},
		{`a="1"`, nil, "not {name"},
		{`{a=1}`, nil, "not a quoted string"},
		{`{a='1'}`, nil, "not a quoted string"},
		{`{1a="x"}`, nil, "not valid"},
		{`{a="1" b="2"}`, nil, "want ,"},
		{`{a}`, nil, "without =value"},
		{`{a="\q"}`, nil, "not a quoted string"},
	}
	for _, tt := range tests {
		got, err := parseLabels(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseLabels(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseLabels(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
