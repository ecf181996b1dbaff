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

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseYAML parses a monitors file. Unknown fields, wrong types and bad
// values are errors naming the file, line and column. ${NAME} in channel
// settings is replaced by the environment variable NAME, so that secrets
// stay out of the file.
func ParseYAML(name string, data []byte) (File, *Source, error) {
	src := &Source{Name: name, pos: map[string][2]int{}, quoted: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return File{}, nil, &PosError{File: name, Line: line, Col: 1, Msg: m[2]}
		}
		return File{}, nil, &PosError{File: name, Line: 1, Col: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	if len(doc.Content) == 0 {
		return File{}, nil, &PosError{File: name, Line: 1, Col: 1, Msg: "the file is empty (want monitors: and channels:)"}
	}
	root := doc.Content[0]
	if err := src.check(root, reflect.TypeOf(File{}), ""); err != nil {
		return File{}, nil, err
	}
	var f File
	if err := root.Decode(&f); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg := te.Errors[0]
			if m := regexp.MustCompile(`^line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
				line, _ := strconv.Atoi(m[1])
				return File{}, nil, &PosError{File: name, Line: line, Col: 1, Msg: m[2]}
			}
			return File{}, nil, &PosError{File: name, Line: root.Line, Col: root.Column, Msg: msg}
		}
		return File{}, nil, &PosError{File: name, Line: root.Line, Col: root.Column, Msg: err.Error()}
	}
	if err := expandEnv(&f, src); err != nil {
		return File{}, nil, err
	}
	for i := range f.Monitors {
		if err := f.Monitors[i].check(); err != nil {
			var fe *FieldError
			errors.As(err, &fe)
			return File{}, nil, src.locate(&ItemError{Section: "monitors", Index: i, Field: fe})
		}
	}
	for i, c := range f.Channels {
		if err := c.Validate(); err != nil {
			return File{}, nil, src.locate(&ItemError{Section: "channels", Index: i, Err: err})
		}
	}
	return f, src, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func expandEnv(f *File, src *Source) error {
	for i := range f.Channels {
		c := &f.Channels[i]
		for _, p := range []*string{&c.URL, &c.Secret, &c.Token, &c.ChatID, &c.RoutingKey, &c.SMTPHost, &c.Username, &c.Password, &c.From} {
			var missing string
			*p = envRef.ReplaceAllStringFunc(*p, func(ref string) string {
				name := ref[2 : len(ref)-1]
				v, ok := os.LookupEnv(name)
				if !ok {
					missing = name
				}
				return v
			})
			if missing != "" {
				return src.locate(&ItemError{Section: "channels", Index: i, Err: fmt.Errorf("environment variable %s is not set", missing)})
			}
		}
		for k, v := range c.Headers {
			c.Headers[k] = envRef.ReplaceAllStringFunc(v, func(ref string) string { return os.Getenv(ref[2 : len(ref)-1]) })
		}
	}
	return nil
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
// positions and refusing unknown fields with the closest known name.
func (s *Source) check(n *yaml.Node, t reflect.Type, path string) error {
	s.pos[path] = [2]int{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
		s.quoted[path] = true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(Duration(0)) {
		if n.Kind != yaml.ScalarNode {
			return &PosError{File: s.Name, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("%s must be a duration like 5m", describePath(path))}
		}
		if _, err := parseDuration(n.Value); err != nil {
			return &PosError{File: s.Name, Line: n.Line, Col: n.Column, Msg: describePath(path) + ": " + err.Error()}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &PosError{File: s.Name, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("%s must be a mapping of fields", describePath(path))}
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
				return &PosError{File: s.Name, Line: k.Line, Col: k.Column, Msg: msg}
			}
			if seen[k.Value] {
				return &PosError{File: s.Name, Line: k.Line, Col: k.Column, Msg: fmt.Sprintf("field %q appears twice", k.Value)}
			}
			seen[k.Value] = true
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if err := s.check(v, ft, p); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &PosError{File: s.Name, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("%s must be a list", describePath(path))}
		}
		for i, c := range n.Content {
			if err := s.check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &PosError{File: s.Name, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("%s must be a mapping", describePath(path))}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return &PosError{File: s.Name, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("%s must be a single value", describePath(path))}
		}
	}
	return nil
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
	ve.Located = nil
	for _, it := range ve.Items {
		ve.Located = append(ve.Located, s.locate(it).Error())
	}
	return ve
}

// closest returns the known name nearest to s, if any is close.
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ApplyYAML parses a monitors file and applies it as origin's whole set;
// every problem names its file:line:column, and nothing is applied half.
func (e *Engine) ApplyYAML(ctx context.Context, origin, name string, data []byte) (ApplyResult, error) {
	f, src, err := ParseYAML(name, data)
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
