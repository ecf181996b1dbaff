package main

import "testing"

func TestUnitsText(t *testing.T) {
	for _, c := range []struct {
		raw  string
		dec  int
		want string
	}{
		{"1500000000000000000", 18, "1.5"}, {"-2500000", 6, "-2.5"}, {"1", 18, "0.000000000000000001"},
		{"42", 0, "42"}, {"1000000", 6, "1"}, {"0", 18, "0"}, {"x", 18, "x"},
	} {
		if got := unitsText(c.raw, c.dec); got != c.want {
			t.Errorf("unitsText(%s, %d) = %s, want %s", c.raw, c.dec, got, c.want)
		}
	}
}
