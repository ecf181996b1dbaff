// Package logsql is what the VictoriaLogs records engines share: how a
// record.Record is stored as VictoriaLogs fields and read back
// (fields.go), the compiler of blocktorch's query language (package
// query) into LogsQL (filter.go, table.go), and a store.Searcher over any
// engine that runs LogsQL (search.go).
//
// # How the engine backends use it
//
// Writing: Encode(fields, &rec) returns the fields of a record, stream
// fields first, and how many there are. The embedded engine passes them
// to LogRows.MustAdd(tenant, rec.Time.UnixNano(), fields, streams); the
// HTTP backend (store/vlhttp) writes them as one JSON line with
// FieldTime = FormatTime(rec.Time) and _stream_fields=StreamFields. The
// backend assigns Record.ID before encoding (see FieldID).
//
// Reading: a result row's fields go to Decode, which returns the record
// exactly as it was written, attributes typed as the SQLite store
// returns them.
//
// Searching: a backend implements Runner (run a LogsQL text, stream the
// result rows) and uses Searcher{Runner: it, CursorKey: key} as its
// store.Searcher: Search, Histogram and Table compile the query AST with
// Filter and the pipes here, and post-process what LogsQL does not do the
// language's way. A backend that knows the attribute columns of its
// records gives them as Searcher.Columns, and free text then names them
// rather than a wildcard (see expandColumns). Record IDs must be
// non-negative (IDs assigns them);
// records are ordered by _time, then id.
//
// # The compiler
//
// Filters become LogsQL filters on the fields below; every value and
// field name is a quoted LogsQL string, so user text never becomes LogsQL
// syntax. Pages are `sort by (_time, id) limit n+1` after the cursor's
// (_time, id), read in two steps: the sort keeps only the keys of the
// page (_time, id and the row's _stream_id: `| fields`), so that the
// engine reads two columns of the rows it sorts, and the records are
// then fetched by their keys (their streams, an exact _time and id
// each), which reads only the blocks that hold them. A page sorted with
// all its fields read every column of every block holding a match in
// its range, and the engine keeps a block per stream (addrshard, below,
// makes a hundred streams): a minute's page of 100 read a hundred blocks
// whole. When the keys cannot tell the records apart (two records of
// one time and id, which two writers of one nanosecond make, or a
// record deleted in between) the page is read whole, as before. When
// the backend gives Searcher.Bounds, a page first finds by bisection
// the latest start time from which at least n+1 records match (probes
// of `limit 2(n+1) | stats count()`, as VictoriaLogs' own server narrows
// its last-N queries) and sorts only the keys after it: sorting every
// match of a common word read most of the store; the first probe reads
// keys, up to 2(n+1), or up to maxRangeSort for a page bounded in time on
// both sides (a minute's range): fewer are every match, sorted here to
// make the page without more probes, which would each read every block
// of the range; the probes of a query with phrases count their
// words only (a superset, checked by the page itself, which is read
// again without the window when it comes up short): the regexps that
// order a phrase's words cost the engine about 10 ms each to compile at
// every parse, which was most of a phrase search; times in filters are
// written with nine fractional digits, since the engine reads an
// inclusive bound written to the second (or milli-, microsecond) as the
// end of that second;
// histograms are `stats by (_time:Wns offset O, level)
// count()`; stats and timechart run as the engine's stats (count, sum,
// avg, min, max, count_uniq) grouped by each field and its attrtype, so
// that 42 and "42" stay apart; top reads the counts of every value and
// keeps the N largest here; percentiles read the values and take the
// nearest rank here (the engine's quantile is sampled and ranked another
// way); a record table sorted by a field other than time is sorted here,
// up to MaxSortRecords records (a clear error beyond).
//
// Where the engine's own semantics differ, the compiler adds what makes
// the answer the SQLite store's: numeric comparisons only on numeric
// leaves, and integers beyond the engine's 20-digit numbers (wei amounts)
// compared by length and text; string comparisons with string_range on
// string leaves; patterns as anchored regexps, case-folded on ASCII only
// where SQL LIKE folds; phrases as their words (bloom filters) and a
// regexp of the lower-cased words for their order, on the field, and on
// a message with capitals one where each letter takes its capitals
// (below) — a (?i) regexp cannot use the engine's literal prefilter and
// cost a phrase search ten times more. Free-text words and phrases ignore case as the
// engine's i() does (ASCII, else Unicode lower case of each rune), but
// i() cannot use the engine's bloom filters and reads every text column
// (lib/logstorage filter_any_case_phrase.go in v1.52.1): a word w is
// compiled to exact word filters on the lower-cased w, in the field
// itself OR in its lower-cased copy (msglc, attrlc.*, below). A word
// or value that is its own lower case has no copy and is found in the
// field; any other is found in the copy; so the pair matches exactly the
// rows i(w) matched, from bloom filters. Known differences, none of them in the storetest
// suite, which passes unchanged on the engines: a word's characters are
// the engine's (letters, digits and "_", so log_level is one word where
// SQLite FTS sees two); free text also finds numbers and booleans among
// attribute values (the SQLite store indexes string values only); an
// attribute path naming an object (attr.user with {"user":{"id":1}}) is
// present for field:* but shows no value in tables.
//
// # Fields, and why
//
//   - _time is the record time, _msg its message (an empty message is
//     stored as FieldNoMsg, since the engine would put a text of its own
//     in an empty _msg).
//   - Stream fields are source and service: together they name who wrote
//     the line (the chain, or one application's service), they are few
//     and stable, and VictoriaLogs keeps a stream's lines together, which
//     is what makes its compression and per-stream scans work. level and
//     kind change from line to line within one service, so as stream
//     fields they would split every service into many small streams;
//     as plain fields their per-block dictionaries and bloom filters
//     serve level:error and kind:tx. Retention deletes by source, which
//     the stream filter {source="app"} selects without reading rows.
//   - addrshard, the third stream field, is on records that link an
//     address: one of AddrShards values hashed from the first linked
//     address (a transaction's sender, an event's emitter, the first
//     address a log line names). The engine cuts blocks per stream and
//     keeps a bloom filter per block, so in one stream per service an
//     address's few records sat one per block across the whole stream,
//     and a lookup decompressed every column of a block per match (about
//     100 ms for 33 matches at 1M lines). Sharded, an address shares
//     its blocks with 1/64 of the others: the bloom filters rule out
//     nearly every block and the lookup reads a few small ones (3–4 ms
//     at 1M lines, with fewer bytes on disk, since a block's addresses
//     repeat). Every other query reads more, smaller blocks of those
//     services (a bloom check each, see AddrShards for the trade);
//     filters on source and service are stream filters and match every
//     shard. Records
//     written before the field existed stay in their unsharded streams
//     and are found the same way, only more slowly.
//   - msglc holds the message's words that are not their own lower
//     case, lower-cased, once each (GET /api/v1/quote 200 → "get"), and
//     attrlc.<path> an attribute leaf's text lower-cased when it differs
//     from the original (it holds capitals): they serve free text's
//     exact word filters (see the compiler), the words already lower
//     case being found in _msg. Lower-casing keeps every rune a word
//     character or not (TestLowerKeepsWordRunes), so the words of the
//     lower-cased message are the message's words lower-cased, and word
//     and prefix filters over _msg and msglc find what i() finds
//     (TestMsgLowerWordsMatchLikeI; a word beside an invalid byte keeps
//     a U+FFFD there, which the engine's filters look at). A phrase's
//     word order is checked on _msg itself: the lower-cased words'
//     regexp, or on a message with capitals (one with msglc) a regexp
//     where each letter also takes every rune that lower-cases to it.
//     Most machine-written lines are lower case already and cost
//     nothing. Records written before held the whole message
//     lower-cased in msglc, which the same filters serve; records
//     written before these fields existed lack them, so free text
//     misses their capitalised words. Decode ignores both.
//   - id is Record.ID: ties of _time are ordered by it, and it is the
//     keyset of paging with _time. It is stored only when it differs
//     from the time in unix nanoseconds, which IDs gives most records (a
//     column of unique ids cost about 7 bytes a record, a fifth of what
//     VictoriaLogs stores for a line): a missing id reads as the time,
//     sorts first among records of its time (the engine reads it as ""),
//     and cursors treat it so. rec is "1" on every record, the same in
//     every row of a block and so almost free: Live (rec:* OR id:*, for
//     records written when every one had an id) tells records from rows
//     a delete task emptied. It must stay the same in every row: a
//     flag that varied from row to row in it made the Live check of
//     every query read the field row by row (top services 2 → 10 ms of
//     CPU at 1M lines), so the links' flag has a field of its own.
//   - kind, level, block are plain fields.
//   - tx and address hold the record's links (linked transaction hashes
//     and addresses) as lower-case hex words separated by spaces: tx:0x…
//     and address:0x… are word filters served by bloom filters, prefixes
//     are prefix filters. A record's first links that are, in order,
//     exactly the distinct lower-case hex words of its message of their
//     size (MsgHexWords: 0x and 64 or 40 digits, with the engine's word
//     boundaries) are not stored again: msglinks says so ("t" for tx,
//     "a" for address, "ta" both), and the field keeps the links after them
//     (log ingest links the message's hashes first, so a line that
//     names its transaction in the message, the common case, stores no
//     tx field). Those 66 or 42 random characters were the largest part
//     of such a row (the attribute and the message hold them too), and
//     the fields cost the engine work per row at ingest and at every
//     merge. tx:H compiles to tx:H OR (msglinks:in(t,ta) AND _msg:H),
//     where the flag makes the message's word a link (a message whose
//     hash words are not exactly its first links keeps them all in the
//     field, without the flag); a prefix adds an exact regexp of the
//     link's length and the engine's word boundaries; tx:* is tx:* OR
//     msglinks:in(t,ta); the tx table column takes the message's first
//     hash word when the flag says so; Decode puts the message's words
//     back first. Free text needs nothing more: a link left to the
//     message is a word of _msg. Rows written before this (every link
//     in its field) match the same filters unchanged; rows of a first
//     form of it, with the flag in rec, are read and matched the same
//     way (the filters also accept rec:in(t,ta)).
//   - Attributes: one field per leaf, attr.<dotted path> (attr.user.id
//     holds {"user":{"id":42}} as well as OpenTelemetry's {"user.id":42},
//     the same name the query language uses, so every shape of an
//     attribute is one column). The chain fields of the language (from,
//     to, contract, event, method, status, revertReason, revertKind,
//     gasUsed, value, args.*) are attributes of chain records and are
//     stored the same way (attr.event, attr.gasUsed, …). A leaf that is
//     not a non-empty string has an attrtype.<path> field beside it
//     (TypeInt, TypeFloat, …): the engine stores text only, while the
//     language tells 42 from "42" (attr.user.id:"42", stats by groups).
//     Type fields are the same for most lines of one service, which the
//     engine stores as constant columns of a block, almost free.
//     attrshape keeps the key structure only when a key holds a dot;
//     attrs keeps the whole attributes as JSON only when the leaf fields
//     cannot (colliding names, names over the engine's 128 bytes, more
//     than MaxLeaves leaves).
//
// Decode(Encode(r)) equals r with its attributes read back as JSON reads
// them (what the SQLite store returns); FuzzRoundTrip checks it.
package logsql
