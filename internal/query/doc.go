// Package query is blocktorch's search language: a hand-written lexer and
// recursive-descent parser from query text to an AST with byte positions,
// and the canonical printing of that AST. It is a leaf: the store turns the
// AST into SQL, the web and CLI pass query text to Parse.
package query
