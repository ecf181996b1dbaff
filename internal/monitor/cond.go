package monitor

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// cond is one parsed condition: field op value(s).
type cond struct {
	field string
	op    string
	vals  []string
	// nums holds vals parsed as numbers (nil where one is not a number).
	nums []*big.Float
}

var condOps = []string{"not in", "in", "==", "!=", ">=", "<=", ">", "<", "~", "!~"}

var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.%]*$`)

// parseCond parses "field op value". With implicit set, the field may be
// left out ("> 10" compares "value").
func parseCond(s string, implicit string) (cond, error) {
	s = strings.TrimSpace(s)
	var c cond
	// Find the operator: the first operator token after the field.
	field, rest := s, ""
	opAt := -1
	opLen := 0
	for i := 0; i < len(s); i++ {
		for _, op := range condOps {
			if strings.HasPrefix(s[i:], op) {
				word := op == "in" || op == "not in"
				if word && ((i > 0 && s[i-1] != ' ') || (i+len(op) < len(s) && s[i+len(op)] != ' ')) {
					continue
				}
				opAt, opLen, c.op = i, len(op), op
				break
			}
		}
		if opAt >= 0 {
			break
		}
	}
	if opAt < 0 {
		return c, fmt.Errorf("%q has no operator (want one of %s)", s, strings.Join(condOps, " "))
	}
	field, rest = strings.TrimSpace(s[:opAt]), strings.TrimSpace(s[opAt+opLen:])
	if field == "" {
		if implicit == "" {
			return c, fmt.Errorf("%q names no field (e.g. value > 1e24)", s)
		}
		field = implicit
	}
	if !fieldName.MatchString(field) {
		return c, fmt.Errorf("%q is not a field name", field)
	}
	c.field = field
	if rest == "" {
		return c, fmt.Errorf("%q has no value after %s", s, c.op)
	}
	if c.op == "in" || c.op == "not in" {
		if !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") {
			return c, fmt.Errorf("%q: %s takes a list like [a, b]", s, c.op)
		}
		for _, v := range strings.Split(rest[1:len(rest)-1], ",") {
			if v = unquote(strings.TrimSpace(v)); v != "" {
				c.vals = append(c.vals, v)
			}
		}
		if len(c.vals) == 0 {
			return c, fmt.Errorf("%q: empty list", s)
		}
	} else {
		c.vals = []string{unquote(rest)}
	}
	for _, v := range c.vals {
		c.nums = append(c.nums, number(v))
	}
	switch c.op {
	case ">", ">=", "<", "<=":
		if c.nums[0] == nil {
			return c, fmt.Errorf("%q: %s needs a number, not %q", s, c.op, c.vals[0])
		}
	}
	return c, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// number parses decimal, exponent (1e24) and 0x integers; an address
// (0x + 40 hex digits) is not a number. Booleans are 1 and 0.
func number(s string) *big.Float {
	switch s {
	case "true":
		return big.NewFloat(1)
	case "false":
		return big.NewFloat(0)
	}
	if len(s) > 80 {
		return nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		if len(s) == 42 {
			return nil
		}
		i, ok := new(big.Int).SetString(s[2:], 16)
		if !ok {
			return nil
		}
		return new(big.Float).SetPrec(256).SetInt(i)
	}
	f, _, err := big.ParseFloat(s, 10, 256, big.ToNearestEven)
	if err != nil || f.IsInf() {
		return nil
	}
	return f
}

// match applies the condition to a value; a missing field never matches.
func (c cond) match(v string, ok bool) bool {
	if !ok {
		return false
	}
	switch c.op {
	case "in", "not in":
		in := false
		for i := range c.vals {
			if c.equal(v, i) {
				in = true
				break
			}
		}
		return in == (c.op == "in")
	case "==":
		return c.equal(v, 0)
	case "!=":
		return !c.equal(v, 0)
	case "~":
		return glob(c.vals[0], v)
	case "!~":
		return !glob(c.vals[0], v)
	}
	n := number(v)
	if n == nil {
		return false
	}
	cmp := n.Cmp(c.nums[0])
	switch c.op {
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	}
	return false
}

func (c cond) equal(v string, i int) bool {
	if c.nums[i] != nil {
		if n := number(v); n != nil {
			return n.Cmp(c.nums[i]) == 0
		}
	}
	// Addresses and hashes compare without case (checksums).
	return strings.EqualFold(v, c.vals[i])
}

// glob matches a pattern where "*" is any run of characters, without
// case.
func glob(pattern, s string) bool {
	p, s := strings.ToLower(pattern), strings.ToLower(s)
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
