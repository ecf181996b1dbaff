package web

import (
	_ "embed"
	"strings"
)

// help.txt is the query language's reference from the package doc of
// internal/query (its # Syntax to # Limits sections), copied by
// TestHelpMatchesQueryDoc with -update so the two cannot drift apart.
//
//go:embed help.txt
var helpText string

// helpBlock is a heading, a paragraph or a preformatted block of the
// syntax help.
type helpBlock struct {
	Kind string // "h", "p" or "pre"
	Text string
}

var syntaxHelp = parseHelp(helpText)

// parseHelp splits Go doc text into blocks: "# Heading" lines, tab-indented
// code blocks and paragraphs.
func parseHelp(text string) []helpBlock {
	var (
		out []helpBlock
		cur []string
		pre bool
	)
	flush := func() {
		if len(cur) > 0 {
			kind, sep := "p", " "
			if pre {
				kind, sep = "pre", "\n"
			}
			out = append(out, helpBlock{Kind: kind, Text: strings.Join(cur, sep)})
		}
		cur = nil
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			flush()
			out = append(out, helpBlock{Kind: "h", Text: strings.TrimPrefix(line, "# ")})
		case strings.HasPrefix(line, "\t"):
			if !pre {
				flush()
				pre = true
			}
			cur = append(cur, strings.TrimPrefix(line, "\t"))
		case strings.TrimSpace(line) == "":
			if !pre {
				flush()
			} else {
				cur = append(cur, "")
			}
		default:
			if pre {
				for len(cur) > 0 && cur[len(cur)-1] == "" {
					cur = cur[:len(cur)-1]
				}
				flush()
				pre = false
			}
			cur = append(cur, line)
		}
	}
	for pre && len(cur) > 0 && cur[len(cur)-1] == "" {
		cur = cur[:len(cur)-1]
	}
	flush()
	return out
}
