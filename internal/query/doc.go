// Package query is blocktorch's search language: a hand-written lexer and
// recursive-descent parser from query text to an AST with byte positions,
// and the canonical printing of that AST. It is a leaf: the store turns the
// AST into SQL, the web and CLI pass query text to Parse. The time range of
// a search is not part of the language; it comes from API parameters.
//
// # Syntax
//
// A query is a filter, optionally followed by pipes:
//
//	> level:error tx:0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060
//	> "insufficient balance" OR revertReason:*collateral*
//	> source:app "wallet rejected" -service:web
//	> gasUsed:>100000 event:Transfer*
//	> block:[100 TO 200] status:failed
//	> value:{0 TO *] address:0xdAC17F958D2ee523a2206206994597C13D831ec7
//	> time:>2026-01-01T00:00:00Z level:>=warn
//	> attr.user.id:42 OR attr.http.status_code:>=500
//	> (level:error OR level:fatal) AND NOT service:indexer
//	> level:(error OR fatal) -event:(Approval OR Transfer*)
//	> status:failed | top 10 revertReason
//	> * | stats count(), avg(gasUsed), p95(gasUsed) by level
//	> kind:tx | timechart 1m count() by kind
//	> status:failed | fields time, tx, from, revertReason | sort -time | limit 50
//	> * | stats count() as n by service | sort -n | head 5
//
// Free text: a word matches records whose text contains it (case does not
// matter); "a quoted phrase" matches the words in order; a word ending in
// "*" matches words starting with it (liquid*). A lone "*" (or an empty
// query) matches everything.
//
// Field terms: field:value is equality (on message: contains the word or
// phrase); field:>v, >=, <, <= compare; field:[a TO b] is an inclusive
// range, field:{a TO b} an exclusive one, the brackets may be mixed, and
// "*" as a bound leaves that side open; field:abc* is a prefix, field:*abc
// a suffix, field:*abc* contains, other "*" patterns are globs; field:* means
// the record has the field. field:"quoted value" takes the value literally.
// field:(a OR b) is short for (field:a OR field:b). A space may follow the
// ":". Outside quotes, "\" makes the next character
// literal (\*, \:, \(, \").
//
// Boolean logic: terms side by side must all match (implicit AND); AND, OR
// and NOT (in any case; quote "and" to search for the word) combine them;
// "-term" is NOT term; parentheses group. NOT binds tightest, then AND,
// then OR: a OR b c is a OR (b AND c).
//
// tx:0x… matches the record's transaction and the logs that mention it;
// address:0x… matches from, to, contract and the logs that mention the
// address. Both need the full hash or address, or a prefix such as
// tx:0x5c50*.
//
// # Grammar
//
// In EBNF; whitespace separates tokens and is otherwise ignored, except
// that nothing may separate "-" from its term or a field name from its ":".
//
//	query      = [ filter ] { "|" pipe } .
//	filter     = "*" | or .
//	or         = and { "OR" and } .
//	and        = unary { [ "AND" ] unary } .
//	unary      = ( "NOT" | "-" ) unary | "(" or ")" | term .
//	term       = phrase | word | field ":" fieldvalue .
//	fieldvalue = "*"
//	           | ( "<" | "<=" | ">" | ">=" ) value
//	           | ( "[" | "{" ) bound "TO" bound ( "]" | "}" )
//	           | "(" ( value | pattern ) { "OR" ( value | pattern ) } ")"
//	           | value | pattern .
//	bound      = "*" | value .
//	value      = phrase | bare .
//	pattern    = bare with unescaped "*" .
//	field      = name .
//	name       = letter { letter | digit | "_" | "." | "-" } .
//	phrase     = `"` { char | `\` char } `"` .
//	word, bare = { char | `\` char } .  (ends at space, ( ) " |; word also at ":")
//
//	pipe       = stats | timechart | top | fields | sort | limit .
//	stats      = "stats" agg { "," agg } [ "by" field { "," field } ] .
//	timechart  = "timechart" [ interval ] [ agg { "," agg } ] [ "by" field ] .
//	top        = "top" [ integer ] field .
//	fields     = "fields" column { "," column } .
//	sort       = "sort" [ "-" | "+" ] column { "," [ "-" | "+" ] column } .
//	limit      = ( "limit" | "head" ) integer .
//	agg        = func "(" [ field ] ")" [ "as" name ] .
//	func       = "count" | "count_distinct" | "sum" | "avg" | "min" | "max" | "p1" … "p99" .
//	column     = field | name | func "(" [ field ] ")" .
//	interval   = integer ( "s" | "m" | "h" | "d" ) .
//
// # Fields
//
//	field         type      values and operators
//	time          time      RFC 3339 (2026-01-02T15:04:05Z) or a date; compare, range
//	source        keyword   chain, app, security, system
//	kind          keyword   tx, event, revert, log, …
//	level         enum      trace < debug < info < warn < error < fatal; compare, range
//	service       keyword   the service that logged the record
//	message       text      words and "phrases"; patterns
//	tx            hash      0x + 64 hex digits, or a prefix 0xabc*
//	address       address   0x + 40 hex digits, or a prefix; from, to, contract, links
//	block         number    compare, range
//	from          address   transaction sender
//	to            address   transaction recipient
//	contract      address   contract that emitted the event or reverted
//	event         keyword   decoded event name: Transfer, Liquidation, …
//	method        keyword   decoded method name
//	status        enum      success, failed
//	revertReason  keyword   decoded revert message or custom error name
//	revertKind    enum      error, panic, custom, empty, unknown
//	gasUsed       number    compare, range
//	value         number    wei, exact to any size (1e18 is one ether)
//	attr.PATH     attribute any attribute: attr.user.id, attr.http.status_code
//
// Field names match in any case (gasused is gasUsed); attribute paths keep
// their case. Keyword values are exact and case-sensitive, enum values are
// not. Attribute values are typed by their look: 42 matches the number 42
// and the string "42", true a boolean, "42" in quotes only the string.
// Unknown fields are an error that suggests the closest known name.
//
// An attribute path finds its value however the shipper nested it:
// attr.user.id is {"user":{"id":42}} as JSON lines send it, the flat key
// {"user.id":42} as OpenTelemetry sends every attribute, or a mix such as
// {"user":{"id.x":…}} for attr.user.id.x. A record holding several of these
// shapes has the value of the first: the most nested, the flat key last.
// Past six segments, only the fully nested and fully flat shapes are
// looked at. The same holds in filters, stats, top, timechart and fields.
//
// # Pipes
//
// Pipes run in order. stats, timechart and top aggregate; a query has at
// most one of them, and it comes first. fields, sort and limit may follow,
// at most once each, with sort before limit; after an aggregation they
// name its output columns (by fields, "as" names, or the call text such as
// count()).
//
//	stats      count(), count(f), count_distinct(f), sum/avg/pN(number f), min/max(number or time f)
//	timechart  buckets of interval (10s, 1m, 5m, 1h, 1d; default: chosen from the time range),
//	           by at most one field; without an aggregation it counts
//	top        the N (default 10) most frequent values of a field, with "count"
//	fields     the columns to return
//	sort       by columns; "-" for descending
//	limit      at most N rows, 1 to 10000; head is the same
//
// # Limits
//
// A query is at most 64 KiB, nests parentheses and NOT at most 100 deep,
// and has at most 1000 terms. Errors name the line and column and Caret
// draws them.
package query
