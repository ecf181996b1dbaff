package query

// Walk calls fn for e and then, when fn returns true, for each of e's
// children, depth first, in order. A nil e is not visited. The depth of
// the walk is bounded by the parser's MaxDepth for parsed queries.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch x := e.(type) {
	case *And:
		for _, t := range x.Terms {
			Walk(t, fn)
		}
	case *Or:
		for _, t := range x.Terms {
			Walk(t, fn)
		}
	case *Not:
		Walk(x.X, fn)
	}
}

// Fields returns the record fields the query references, in order of
// first appearance, each once: the fields of filter terms, aggregation
// arguments, by fields, the top field, and the fields and sort keys when
// they name record fields (not output columns of an aggregation).
func (q *Query) Fields() []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if _, ok := LookupField(name); ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	Walk(q.Filter, func(e Expr) bool {
		switch x := e.(type) {
		case *Match:
			add(x.Field)
		case *Range:
			add(x.Field)
		case *Exists:
			add(x.Field)
		}
		return true
	})
	aggregated := false
	for _, p := range q.Pipes {
		switch x := p.(type) {
		case *Stats:
			aggregated = true
			for _, a := range x.Aggs {
				add(a.Field)
			}
			for _, b := range x.By {
				add(b)
			}
		case *Timechart:
			aggregated = true
			add("time")
			for _, a := range x.Aggs {
				add(a.Field)
			}
			for _, b := range x.By {
				add(b)
			}
		case *Top:
			aggregated = true
			add(x.Field)
		case *FieldsPipe:
			if !aggregated {
				for _, f := range x.Fields {
					add(f)
				}
			}
		case *Sort:
			if !aggregated {
				for _, k := range x.Keys {
					add(k.Field)
				}
			}
		}
	}
	return out
}

// TextTerms returns the words and phrases to highlight in matching
// records: free-text terms, and the values of message:word and
// message:"phrase", each once, in order. Terms under a NOT are left out,
// since matching records do not contain them. A prefix word (liquid*) is
// returned without its "*".
func (q *Query) TextTerms() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	Walk(q.Filter, func(e Expr) bool {
		switch x := e.(type) {
		case *Not:
			return false
		case *Text:
			add(x.Value)
		case *Match:
			if x.Field == "message" && (x.Op == OpEq || x.Op == OpPrefix || x.Op == OpContains || x.Op == OpSuffix) {
				add(x.Value.Raw)
			}
		}
		return true
	})
	return out
}
