package sqlbuild

import "github.com/blocktorch/blocktorch/internal/query"

// Value returns an expression of the field's value over records aliased r,
// for grouping and for the columns of a table: a column, or the attribute
// as an SQL value. isTime says the value is unix nanoseconds, to be shown
// as a time. A record's address links are several values and cannot be
// one column: ask for from, to or contract instead.
func (b *Builder) Value(name string) (expr string, isTime bool, err error) {
	f, err := field(name)
	if err != nil {
		return "", false, err
	}
	switch name {
	case "tx":
		return b.d.TxHex(f.col), false, nil
	case "address":
		return "", false, invalid("address stands for several addresses of a record; use from, to or contract")
	case "service":
		// No service is stored as "", shown and grouped as no value.
		return "NULLIF(" + f.col + ", '')", false, nil
	}
	if f.col != "" {
		return f.col, f.typ == query.TypeTime, nil
	}
	return b.d.JSONValue("r.attrs", f.path, b.Arg), false, nil
}

// Number returns a numeric expression of the field for sum, avg, min,
// max and percentiles: NULL where the record's value is not a number.
func (b *Builder) Number(name string) (expr string, isTime bool, err error) {
	f, err := field(name)
	if err != nil {
		return "", false, err
	}
	switch {
	case f.typ == query.TypeTime || f.typ == query.TypeNumber && f.col != "":
		return f.col, f.typ == query.TypeTime, nil
	case f.typ == query.TypeNumber || f.typ == query.TypeAttr:
		return b.d.JSONNumber("r.attrs", f.path, b.Arg), false, nil
	}
	return "", false, invalid("%s is not a number field", name)
}

// Group returns the expression to GROUP BY for the field whose Value is
// shown: the same, except where grouping by the stored column gives the
// same groups and lets an index serve them (service, whose "" Value shows
// as no value).
func (b *Builder) Group(name string) (string, error) {
	if name == "service" {
		return fields[name].col, nil
	}
	e, _, err := b.Value(name)
	return e, err
}

// Present returns a condition that the record has the field (field:*).
func (b *Builder) Present(name string) (string, error) {
	p, err := b.exists(name)
	if err != nil {
		return "", err
	}
	return p.sql, nil
}
