package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// UnmarshalYAML reads "5m".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a duration is a string like \"5m\"")
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes "5m0s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Source is a parsed monitors file with the position of each of its
// items and fields, so that problems found later point into the file.
type Source struct {
	Name string
	pos  map[string][2]int // path → line, column
	// quoted paths hold quoted scalars: a query offset is one column
	// further.
	quoted map[string]bool
	// bad holds the items ("monitors[2]") with a problem found while
	// parsing: validating them further would only repeat it.
	bad map[string]bool
}

// PosError is a problem at a place in a file.
type PosError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *PosError) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// Unwrap makes a file problem an invalid argument for the API.
func (e *PosError) Unwrap() error { return store.ErrInvalid }

// FileError is every problem found in a file, one a line, in the order
// of the file; nothing was applied.
type FileError struct {
	Errs []*PosError
}

func (e *FileError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, pe := range e.Errs {
		lines[i] = pe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap makes a file's problems an invalid argument for the API.
func (e *FileError) Unwrap() error { return store.ErrInvalid }

// fileError returns the problems sorted by place, without repeats; nil
// when there are none.
func fileError(errs []*PosError) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *PosError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	errs = slices.CompactFunc(errs, func(a, b *PosError) bool { return *a == *b })
	return &FileError{Errs: errs}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError places a YAML syntax error. The parser names the line where
// the construct it was reading began (an indentation error on line 4 of a
// list that starts on line 2 says "line 2"), so the place is found as the
// shortest start of the file, from that line on, that fails the same way.
func syntaxError(name string, data []byte, err error) *PosError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	from := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		from, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := strings.SplitAfter(string(data), "\n")
	fails := func(n int) bool {
		var doc yaml.Node
		err := yaml.Unmarshal([]byte(strings.Join(lines[:n], "")), &doc)
		if err == nil {
			return false
		}
		got := err.Error()
		if m := yamlLine.FindStringSubmatch(got); m != nil {
			got = m[2]
		}
		return got == strings.TrimPrefix(msg, "yaml: ")
	}
	// Binary search for the shortest failing start in [from, len(lines)].
	lo, hi := max(1, min(from, len(lines))), len(lines)
	if !fails(hi) {
		return &PosError{File: name, Line: max(from, 1), Col: 1, Msg: msg}
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	line := lines[lo-1]
	col := 1 + len(line) - len(strings.TrimLeft(line, " \t"))
	for _, m := range []string{"did not find expected '-' indicator", "did not find expected key", "mapping values are not allowed"} {
		if strings.HasPrefix(msg, m) {
			msg += " (is this line indented like the fields around it?)"
			break
		}
	}
	if strings.TrimSpace(line) == "" {
		col = 1
	}
	return &PosError{File: name, Line: lo, Col: col, Msg: msg}
}

// ParseYAML parses a monitors file. Unknown fields, wrong types and bad
// values are errors naming the file, line and column; the error is a
// *FileError with every problem found, in the order of the file. ${NAME} in
// channel settings is replaced by the environment variable NAME, so that
// secrets stay out of the file. With problems, the File and Source
// returned hold what could be read (nil Source after a syntax error).
func ParseYAML(name string, data []byte) (File, *Source, error) {
	src := &Source{Name: name, pos: map[string][2]int{}, quoted: map[string]bool{}, bad: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return File{}, nil, fileError([]*PosError{syntaxError(name, data, err)})
	}
	if len(doc.Content) == 0 {
		return File{}, nil, fileError([]*PosError{{File: name, Line: 1, Col: 1, Msg: "the file is empty (want monitors: and channels:)"}})
	}
	root := doc.Content[0]
	errs := src.check(root, reflect.TypeOf(File{}), "", nil)
	var f File
	if err := root.Decode(&f); err != nil && len(errs) == 0 {
		// check refuses what decoding would; this is a safety net.
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			for _, msg := range te.Errors {
				line, col := root.Line, root.Column
				if m := typeErrLine.FindStringSubmatch(msg); m != nil {
					line, _ = strconv.Atoi(m[1])
					col, msg = 1, m[2]
				}
				errs = append(errs, &PosError{File: name, Line: line, Col: col, Msg: msg})
			}
		} else {
			errs = append(errs, &PosError{File: name, Line: root.Line, Col: root.Column, Msg: err.Error()})
		}
	}
	errs = append(errs, expandEnv(&f, src)...)
	for i := range f.Monitors {
		item := fmt.Sprintf("monitors[%d]", i)
		if src.bad[item] {
			continue
		}
		// A monitor that only fails these checks still decoded: it is
		// validated further (parseChecked), which repeats them.
		for _, fe := range f.Monitors[i].check() {
			errs = append(errs, src.locate(&ItemError{Section: "monitors", Index: i, Field: fe}))
		}
	}
	for i, c := range f.Channels {
		item := fmt.Sprintf("channels[%d]", i)
		if src.bad[item] {
			continue
		}
		if err := c.Validate(); err != nil {
			src.bad[item] = true
			errs = append(errs, src.locate(&ItemError{Section: "channels", Index: i, Err: err}))
		}
	}
	return f, src, fileError(errs)
}

var typeErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in channel settings and returns a problem
// for each variable that is not set.
func expandEnv(f *File, src *Source) []*PosError {
	var errs []*PosError
	for i := range f.Channels {
		c := &f.Channels[i]
		for _, fv := range []struct {
			field string
			p     *string
		}{{"url", &c.URL}, {"secret", &c.Secret}, {"token", &c.Token}, {"chatId", &c.ChatID}, {"routingKey", &c.RoutingKey},
			{"smtpHost", &c.SMTPHost}, {"username", &c.Username}, {"password", &c.Password}, {"from", &c.From}} {
			*fv.p = envRef.ReplaceAllStringFunc(*fv.p, func(ref string) string {
				name := ref[2 : len(ref)-1]
				v, ok := os.LookupEnv(name)
				if !ok {
					src.bad[fmt.Sprintf("channels[%d]", i)] = true
					errs = append(errs, src.locate(&ItemError{Section: "channels", Index: i,
						Field: &FieldError{Field: fv.field, Index: -1, Offset: -1, Msg: fmt.Sprintf("environment variable %s is not set", name)}}))
				}
				return v
			})
		}
		for k, v := range c.Headers {
			c.Headers[k] = envRef.ReplaceAllStringFunc(v, func(ref string) string { return os.Getenv(ref[2 : len(ref)-1]) })
		}
	}
	return errs
}

// yamlFields lists the yaml names of a struct's fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// check walks a node against the type it decodes into, recording
// positions, and returns every problem: unknown fields (with the closest
// known name), repeated fields, values of the wrong shape or type. A node
// of the wrong shape is not walked further.
func (s *Source) check(n *yaml.Node, t reflect.Type, path string, errs []*PosError) []*PosError {
	s.pos[path] = [2]int{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
		s.quoted[path] = true
	}
	fail := func(line, col int, msg string) []*PosError {
		if item := itemOf(path); item != "" {
			s.bad[item] = true
		}
		return append(errs, &PosError{File: s.Name, Line: line, Col: col, Msg: msg})
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(Duration(0)) {
		if n.Kind != yaml.ScalarNode {
			return fail(n.Line, n.Column, fmt.Sprintf("%s must be a duration like 5m", describePath(path)))
		}
		if _, err := parseDuration(n.Value); err != nil {
			return fail(n.Line, n.Column, describePath(path)+": "+err.Error())
		}
		return errs
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return fail(n.Line, n.Column, fmt.Sprintf("%s must be a mapping of fields", describePath(path)))
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				slices.Sort(names)
				msg := fmt.Sprintf("unknown field %q", k.Value)
				if near := closest(k.Value, names); near != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", near)
				} else {
					msg += " (known: " + strings.Join(names, ", ") + ")"
				}
				errs = fail(k.Line, k.Column, msg)
				continue
			}
			if seen[k.Value] {
				errs = fail(k.Line, k.Column, fmt.Sprintf("field %q appears twice", k.Value))
				continue
			}
			seen[k.Value] = true
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			errs = s.check(v, ft, p, errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fail(n.Line, n.Column, fmt.Sprintf("%s must be a list", describePath(path)))
		}
		for i, c := range n.Content {
			errs = s.check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fail(n.Line, n.Column, fmt.Sprintf("%s must be a mapping", describePath(path)))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return fail(n.Line, n.Column, fmt.Sprintf("%s must be a single value", describePath(path)))
		}
		// The scalar must read as the field's type (a number, true or
		// false): decode it alone to find out.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return fail(n.Line, n.Column, fmt.Sprintf("%s: %q is not %s", describePath(path), n.Value, describeKind(t.Kind())))
		}
	}
	return errs
}

// itemOf returns the item a path is in: "monitors[2]" for
// "monitors[2].where[0]", "" for a path outside the lists.
func itemOf(path string) string {
	for _, sec := range []string{"monitors[", "channels["} {
		if strings.HasPrefix(path, sec) {
			if i := strings.IndexByte(path, ']'); i > 0 {
				return path[:i+1]
			}
		}
	}
	return ""
}

func describeKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of zero or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + k.String()
}

func describePath(p string) string {
	if p == "" {
		return "the file"
	}
	return p
}

// locate renders an item error at its place in the file.
func (s *Source) locate(it *ItemError) *PosError {
	item := fmt.Sprintf("%s[%d]", it.Section, it.Index)
	if it.Index < 0 {
		item = it.Section
	}
	p, ok := s.pos[item]
	if !ok {
		p = [2]int{1, 1}
	}
	msg := it.Error()
	if it.Err != nil {
		msg = it.Err.Error()
	}
	if it.Field != nil {
		fp := item + "." + it.Field.Field
		if it.Field.Index >= 0 {
			fp += fmt.Sprintf("[%d]", it.Field.Index)
		}
		if q, ok := s.pos[fp]; ok {
			p = q
			if it.Field.Offset >= 0 {
				col := p[1] + it.Field.Offset
				if s.quoted[fp] {
					col++
				}
				p[1] = col
			}
		}
		msg = it.Field.Msg
		name := it.Field.Field
		if it.Field.Index >= 0 {
			name += fmt.Sprintf("[%d]", it.Field.Index)
		}
		msg = name + ": " + msg
	}
	if it.Index < 0 {
		return &PosError{File: s.Name, Line: p[0], Col: p[1], Msg: it.Section + ": " + msg}
	}
	return &PosError{File: s.Name, Line: p[0], Col: p[1], Msg: item + " " + msg}
}

// Locate renders the problems of a ValidationError at their places in the
// file; other errors are returned as they are.
func (s *Source) Locate(err error) error {
	var ve *ValidationError
	if s == nil || !errors.As(err, &ve) {
		return err
	}
	var errs []*PosError
	for _, it := range ve.Items {
		errs = append(errs, s.locate(it))
	}
	var fe *FileError
	errors.As(fileError(errs), &fe)
	ve.Located = nil
	for _, pe := range fe.Errs {
		ve.Located = append(ve.Located, pe.Error())
	}
	return ve
}

// closest returns the known name nearest to s, if any is close.
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := query.EditDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// ApplyYAML parses a monitors file and applies it as origin's whole set;
// every problem names its file:line:column, and nothing is applied half.
func (e *Engine) ApplyYAML(ctx context.Context, origin, name string, data []byte) (ApplyResult, error) {
	f, src, err := e.parseChecked(ctx, origin, false, name, data)
	if err != nil {
		return ApplyResult{}, err
	}
	res, err := e.Apply(ctx, origin, f)
	return res, src.Locate(err)
}

// LoadFile applies a monitors file at startup (--monitors FILE).
func (e *Engine) LoadFile(ctx context.Context, path string) (ApplyResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("cannot read monitors file: %w", err)
	}
	return e.ApplyYAML(ctx, OriginCode, path, data)
}

// parseChecked parses a file and, when some of its items are wrong,
// validates the others against the contracts and channels too, so that
// one run names every problem of the file (what is wrong in an item
// already is not checked further: it would only repeat). merge says how
// the file would be applied (see Merge).
func (e *Engine) parseChecked(ctx context.Context, origin string, merge bool, name string, data []byte) (File, *Source, error) {
	f, src, err := ParseYAML(name, data)
	var fe *FileError
	if err == nil || src == nil || !errors.As(err, &fe) {
		return f, src, err
	}
	var clean File
	var idx []int
	for i, m := range f.Monitors {
		if !src.bad[fmt.Sprintf("monitors[%d]", i)] {
			clean.Monitors = append(clean.Monitors, m)
			idx = append(idx, i)
		}
	}
	badChan := map[string]bool{}
	for i, c := range f.Channels {
		if src.bad[fmt.Sprintf("channels[%d]", i)] {
			badChan[c.Name] = true
		} else {
			clean.Channels = append(clean.Channels, c)
		}
	}
	_, verr := e.validate(ctx, clean, origin, merge)
	var ve *ValidationError
	if verr != nil && !errors.As(verr, &ve) {
		return f, src, verr
	}
	errs := fe.Errs
	if ve != nil {
		for _, it := range ve.Items {
			if it.Section == "monitors" && it.Index >= 0 {
				it.Index = idx[it.Index]
				// A channel with a problem of its own is not unknown too.
				if fd := it.Field; fd != nil && fd.Field == "channels" && fd.Index >= 0 && badChan[f.Monitors[it.Index].Channels[fd.Index]] {
					continue
				}
			}
			if it.Section == "channels" && it.Index >= 0 && src.bad[fmt.Sprintf("channels[%d]", it.Index)] {
				continue
			}
			errs = append(errs, src.locate(it))
		}
	}
	return f, src, fileError(errs)
}
