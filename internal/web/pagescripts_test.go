package web

import (
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"
)

// The UI's scripts share one namespace, window.bt: a script takes its
// helpers with `const { a, b } = bt;` and adds its own with
// `Object.assign(bt, { c, d });`. There is no bundler to check that a page
// loads the script defining a helper before the script using it, so this
// test does, from the templates and web/ui/src.
var (
	btTakes = regexp.MustCompile(`(?m)^  const \{([^}]*)\} = bt;`)
	btGives = regexp.MustCompile(`(?m)^  Object\.assign\(bt, \{([^}]*)\}\);`)
)

func names(list string) []string {
	var out []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// orderedAssets appends the assets under n in document order, following
// {{template}} and {{block}} calls into the templates of t.
func orderedAssets(t *template.Template, n parse.Node, out *[]string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				orderedAssets(t, c, out)
			}
		}
	case *parse.ActionNode:
		orderedAssets(t, n.Pipe, out)
	case *parse.IfNode:
		orderedAssets(t, n.List, out)
		orderedAssets(t, n.ElseList, out)
	case *parse.WithNode:
		orderedAssets(t, n.List, out)
		orderedAssets(t, n.ElseList, out)
	case *parse.RangeNode:
		orderedAssets(t, n.List, out)
	case *parse.TemplateNode:
		if d := t.Lookup(n.Name); d != nil && d.Tree != nil {
			orderedAssets(t, d.Tree.Root, out)
		}
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				orderedAssets(t, c, out)
			}
		}
	case *parse.CommandNode:
		if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "asset" && len(n.Args) == 2 {
			if s, ok := n.Args[1].(*parse.StringNode); ok {
				*out = append(*out, s.Text)
			}
		}
	}
}

func TestPageScriptsHaveTheirHelpers(t *testing.T) {
	a, err := loadAssets(uiTree())
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePages(a)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "..", "web", "ui", "src")
	for _, page := range pageNames {
		tmpl := p.tmpl[page]
		var assets []string
		orderedAssets(tmpl, tmpl.Lookup("layout.html").Tree.Root, &assets)
		given := map[string]string{} // helper → script that gives it
		var scripts []string
		for _, name := range assets {
			if !strings.HasSuffix(name, ".js") || strings.HasPrefix(name, "uPlot") {
				continue
			}
			scripts = append(scripts, name)
			b, err := os.ReadFile(filepath.Join(src, name))
			if err != nil {
				t.Fatalf("%s: %v", page, err)
			}
			for _, m := range btTakes.FindAllStringSubmatch(string(b), -1) {
				for _, n := range names(m[1]) {
					if given[n] == "" {
						t.Errorf("%s: %s takes bt.%s, which no script loaded before it gives (loads %s)", page, name, n, strings.Join(scripts, ", "))
					}
				}
			}
			for _, m := range btGives.FindAllStringSubmatch(string(b), -1) {
				for _, n := range names(m[1]) {
					given[n] = name
				}
			}
		}
		if len(scripts) == 0 || scripts[0] != "bt.js" {
			t.Errorf("%s loads %v, want bt.js first", page, scripts)
		}
	}
}
