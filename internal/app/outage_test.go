package app_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
)

// privatePG is a PostgreSQL cluster of the test's own (initdb into a
// temporary directory, pg_ctl on a free port of 127.0.0.1), so that the
// test can stop and start it: the shared server is never touched.
type privatePG struct {
	bin, dir, data string
	port           int
	asPostgres     bool // run the server's tools as the postgres OS user (we are root)
}

// postgresBin finds the directory of PostgreSQL's server tools
// (/usr/lib/postgresql/VERSION/bin, the newest), or "".
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

// startPrivatePG initdbs and starts a cluster, stopped and removed when
// the test ends. It skips the test when PostgreSQL's server tools are not
// installed.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		t.Skip("PostgreSQL's server tools (initdb, pg_ctl under /usr/lib/postgresql/VERSION/bin) are not installed: apt-get install postgresql")
	}
	dir, err := os.MkdirTemp("", "blocktorch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &privatePG{bin: bin, dir: dir, data: filepath.Join(dir, "data"), asPostgres: os.Geteuid() == 0}
	t.Cleanup(func() {
		pg.ctl(t, "stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if pg.asPostgres {
		// The server refuses to run as root: the cluster belongs to the
		// postgres OS user.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and there is no postgres OS user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := pg.run("initdb", "-D", pg.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	pg.start(t)
	return pg
}

func (pg *privatePG) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(pg.bin, tool)
	var cmd *exec.Cmd
	if pg.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = pg.dir
	return cmd.CombinedOutput()
}

func (pg *privatePG) ctl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := pg.run("pg_ctl", append([]string{"-D", pg.data, "-w", "-t", "60"}, args...)...); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		t.Errorf("pg_ctl %s: %v\n%s\n%s", strings.Join(args, " "), err, out, tail(string(log), 2000))
	}
}

// start starts the server and waits until it accepts connections.
func (pg *privatePG) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", pg.port, pg.dir)
	pg.ctl(t, "start", "-l", filepath.Join(pg.dir, "server.log"), "-o", opts)
}

// stop stops the server at once, as a crash or a cut network would: every
// session is ended without a goodbye.
func (pg *privatePG) stop(t *testing.T) { pg.ctl(t, "stop", "-m", "immediate") }

func (pg *privatePG) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// sample is one round of asking every node its status.
type sample struct {
	at      time.Time
	leaders []int
	answers []string // per node: what it answered
}

// PostgreSQL goes away for 30 s under three serve nodes (stopped with
// pg_ctl stop -m immediate, started again), mid-stream: transfers go on
// and their alerts are due. No node exits, every node answers
// /api/v1/status throughout (the test asks each every 250 ms), API reads
// that need the database answer 503 naming it, the lease moves at most
// once and never to two nodes at a time, and after recovery the chain
// index is the chain's, every transfer's alert was delivered once and
// the log lines acknowledged before the cut are all found.
func TestFailoverPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a PostgreSQL cluster, three nodes and a 30 s outage")
	}
	pg := startPrivatePG(t)
	bin := buildServe(t)
	d := startChain(t)
	r := newReceiver(t)
	mons := monitorsFile(t, r, d)
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, bin, fmt.Sprintf("node%d", i), d.ch.WSEndpoint(), pg.dsn(), mons))
	}
	waitFor(t, "a leader among three nodes", 60*time.Second, func() bool { return leaderOf(t, nodes) >= 0 })
	db, err := postgres.Open(t.Context(), pg.dsn())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Every node's status, every 250 ms, until the end.
	var (
		smu     sync.Mutex
		samples []sample
	)
	stopPoll, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			s := sample{at: time.Now(), answers: make([]string, len(nodes))}
			var wg sync.WaitGroup
			for i, n := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, code, err := status(n, 3*time.Second)
					switch {
					case err != nil:
						s.answers[i] = "no answer: " + err.Error()
					case code != http.StatusOK:
						s.answers[i] = fmt.Sprintf("HTTP %d", code)
					default:
						s.answers[i] = fmt.Sprintf("%s database=%q indexedHead=%d nodes=%d", st.Role, st.Database, st.IndexedHead, len(st.Nodes))
					}
				}()
			}
			wg.Wait()
			for i, a := range s.answers {
				if strings.HasPrefix(a, store.RoleLeader+" ") {
					s.leaders = append(s.leaders, i)
				}
			}
			smu.Lock()
			samples = append(samples, s)
			smu.Unlock()
			select {
			case <-stopPoll:
				return
			case <-tick.C:
			}
		}
	}()
	pollStopped := false
	stopPolling := func() {
		if !pollStopped {
			pollStopped = true
			close(stopPoll)
			<-polled
		}
	}
	defer stopPolling()

	go d.run(t, 150*time.Millisecond)
	halted := false
	defer func() {
		if !halted {
			d.halt()
		}
	}()
	waitFor(t, "three alerts delivered before the cut", 60*time.Second, func() bool { return r.keys() >= 3 })

	// Log lines ingested on each node before the cut, acknowledged.
	marker := fmt.Sprintf("outage-probe-%d", time.Now().UnixNano())
	for i, n := range nodes {
		line := fmt.Sprintf(`{"level":"info","service":"probe","msg":"%s node%d"}`, marker, i)
		resp, err := http.DefaultClient.Do(apiRequest(http.MethodPost, n.url+"/api/v1/logs", "application/x-ndjson", strings.NewReader(line)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("ingest on %s: HTTP %d %s", n.name, resp.StatusCode, b)
		}
	}

	sentAtCut := d.transfers()
	pg.stop(t)
	cut := time.Now()
	t.Logf("PostgreSQL stopped (%d transfers sent, %d alerts delivered)", sentAtCut, r.keys())
	// During the outage, a read that needs the database is refused at
	// once with 503, saying so.
	waitFor(t, "a 503 naming the database from every node", 20*time.Second, func() bool {
		for _, n := range nodes {
			c := http.Client{Timeout: 5 * time.Second}
			resp, err := c.Do(apiRequest(http.MethodGet, n.url+"/api/v1/blocks?limit=5", "", nil))
			if err != nil {
				t.Fatalf("%s: %v", n.name, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(b, []byte("database")) {
				return false
			}
		}
		return true
	})
	// The outage itself: 30 s, as the product's promise says.
	select {
	case <-time.After(30*time.Second - time.Since(cut)):
	case <-t.Context().Done():
	}
	for _, n := range nodes {
		if n.exited() {
			t.Fatalf("%s exited during the outage", n.name)
		}
	}
	sentAtRecovery := d.transfers()
	pg.start(t)
	recovered := time.Now()
	t.Logf("PostgreSQL started again after %s (%d transfers sent meanwhile)", recovered.Sub(cut).Round(time.Millisecond), sentAtRecovery-sentAtCut)
	waitFor(t, "a leader after the outage", 20*time.Second, func() bool { return leaderOf(t, nodes) >= 0 })
	t.Logf("a node leads %s after PostgreSQL came back", time.Since(recovered).Round(time.Millisecond))
	waitFor(t, "ten more transfers", 60*time.Second, func() bool { return d.transfers() >= sentAtRecovery+10 })
	d.halt()
	halted = true
	mined := d.settle(t)
	head := d.ch.Head().Number.Uint64()
	waitFor(t, fmt.Sprintf("indexing and evaluating up to %d and delivering %d alerts", head, len(mined)), 90*time.Second, func() bool {
		return caughtUp(t.Context(), db, head) && r.keys() >= len(mined)
	})
	stopPolling()

	for _, n := range nodes {
		if n.exited() {
			t.Fatalf("%s exited", n.name)
		}
	}
	// Status answered throughout; never two leaders; the lease moved at
	// most once.
	var moves []string
	last := -1
	during := map[string]int{}
	for _, s := range samples {
		for i, a := range s.answers {
			if strings.HasPrefix(a, "no answer") || strings.HasPrefix(a, "HTTP") {
				t.Errorf("%s at %s: %s", nodes[i].name, s.at.Format(time.StampMilli), a)
			}
			if s.at.After(cut) && s.at.Before(recovered) {
				during[strings.SplitN(a, " indexedHead", 2)[0]]++
			}
		}
		if len(s.leaders) > 1 {
			t.Errorf("at %s nodes %v all said they lead", s.at.Format(time.StampMilli), s.leaders)
		}
		if len(s.leaders) == 1 && s.leaders[0] != last {
			if last >= 0 {
				moves = append(moves, fmt.Sprintf("%s→%s at %s", nodes[last].name, nodes[s.leaders[0]].name, s.at.Format(time.StampMilli)))
			}
			last = s.leaders[0]
		}
	}
	if len(moves) > 1 {
		t.Errorf("the lease moved %d times: %v", len(moves), moves)
	}
	t.Logf("%d status rounds of 3 nodes, all answered; lease moves: %d %v", len(samples), len(moves), moves)
	var shown []string
	for a, c := range during {
		shown = append(shown, fmt.Sprintf("%d× %s", c, a))
	}
	slices.Sort(shown)
	t.Logf("what /api/v1/status said during the outage:\n%s", strings.Join(shown, "\n"))

	hooks := checkDeliveries(t, r, mined, []time.Time{cut}, 5*time.Second)
	counts := checkIndex(t, db, d, head)
	checkActiveAlerts(t, nodes, mined)
	for i, n := range nodes {
		var res struct {
			Records []struct {
				Message string `json:"message"`
			} `json:"records"`
		}
		q := url.QueryEscape(fmt.Sprintf(`"%s node%d"`, marker, i))
		waitFor(t, "the line ingested before the cut on "+n.name, 20*time.Second, func() bool {
			res.Records = nil
			return getData(n.url+"/api/v1/search?from=now-1h&q="+q, &res) == nil && len(res.Records) == 1
		})
	}
	t.Logf("after the outage: %d blocks, %d txs, %d logs indexed, checkpoint %d, %d alerts delivered once each, %d lines found",
		counts.Blocks, counts.Txs, counts.Logs, head, len(hooks), len(nodes))
}
