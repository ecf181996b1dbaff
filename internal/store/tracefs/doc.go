// Package tracefs keeps the debugger's traces as files in one directory
// (store.TraceStore): each part of a transaction's trace is the file
// 0x<hash>.<part>, the layout blocktorch has always used under
// <data dir>/traces, so traces recorded before keep opening.
package tracefs
