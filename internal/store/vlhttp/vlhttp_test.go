package vlhttp_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp/vlhttptest"
)

// open returns a store on a fresh SQLite file and the server at addr.
func open(t *testing.T, addr string) *vlhttp.ChainStore {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "blocktorch.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetChainRecords(false)
	c, err := vlhttp.Open(ctx, "http://"+addr, vlhttp.Options{CursorKey: []byte("test key"), Flush: true})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return vlhttp.NewChainStore(db, c)
}

// TestSearchSingleNode runs the storetest search suite on one server,
// a fresh one per subtest.
func TestSearchSingleNode(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.SearchStore { return open(t, vlhttptest.Start(t).Addr) })
}

// TestSearchCluster runs the storetest search suite on a cluster of two
// storage nodes behind one insert/select node.
func TestSearchCluster(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.SearchStore { return open(t, vlhttptest.StartCluster(t, 2).Front.Addr) })
}

// TestClusterNodeDown kills one storage node: queries say their answer
// would be partial, and ingest goes on to the other node.
func TestClusterNodeDown(t *testing.T) {
	ctx := t.Context()
	cl := vlhttptest.StartCluster(t, 2)
	s := open(t, cl.Front.Addr)
	defer s.Close()
	recs := storetest.CorpusRecords()
	if err := s.AppendRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	count := func() (int, error) {
		n := 0
		_, err := s.Search(ctx, store.SearchRequest{Limit: query.MaxLimit}, func(record.Record) error { n++; return nil })
		return n, err
	}
	if n, err := count(); err != nil || n != len(recs) {
		t.Fatalf("before: %d records, %v; want %d", n, err, len(recs))
	}
	cl.Storages[1].Kill()
	if _, err := count(); !errors.Is(err, logsql.ErrPartial) {
		t.Fatalf("search with a storage node down: %v, want ErrPartial", err)
	}
	more := make([]record.Record, 20)
	for i := range more {
		more[i] = record.Record{Time: storetest.CorpusStart.Add(time.Duration(i) * time.Second), Source: "app", Kind: "log",
			Level: "info", Message: "after the node went down " + strconv.Itoa(i)}
	}
	if err := s.AppendRecords(ctx, more); err != nil {
		t.Fatalf("ingest with a storage node down: %v", err)
	}
	// What the surviving node holds, asked for explicitly as partial: the
	// insert node rerouted the rows meant for the dead one, and the
	// survivor makes them searchable within its flush interval.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.PostForm("http://"+cl.Front.Addr+"/select/logsql/query", url.Values{
			"query": {`"after the node went down" | stats count() as n`}, "allow_partial_response": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		var row map[string]string
		err = json.NewDecoder(resp.Body).Decode(&row)
		resp.Body.Close()
		if err == nil && row["n"] == strconv.Itoa(len(more)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("records sent while a node was down, on the other node: %v, %v; want %d", row, err, len(more))
		}
		time.Sleep(50 * time.Millisecond) // polling the survivor's flush, with a deadline
	}
}
