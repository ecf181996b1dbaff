// Command logs compares blocktorch's log search with VictoriaLogs on the
// same reproducible corpus of JSON log lines like the demo's (levels,
// services, messages with transaction hashes and addresses, nested
// attributes): ingest rate over HTTP (blocktorch's POST /api/v1/logs on
// its records engine, VictoriaLogs' /insert/jsonline), bytes on disk per
// line once each has closed (its parts written), and the p50/p95 latency
// and the p50 CPU time of ten fixed queries, each in blocktorch's
// language through its HTTP API (GET /api/v1/search) and in LogsQL
// through VictoriaLogs' own (/select/logsql/query), in the same run. CPU
// time is the bench process's for blocktorch (the HTTP client's share
// included) and VictoriaLogs' process's for it; on a busy machine it
// compares the two where wall time grows with the load. Each store's
// queries start once its process is idle after the ingest (see settle).
//
// blocktorch runs in this process on the engine -records names: embedded
// (the default, VictoriaLogs' storage in process, acknowledging only
// what its write-ahead log has synced) or sqlite. VictoriaLogs is
// installed with go install into a temporary GOBIN and run on 127.0.0.1
// with a temporary data directory; nothing is kept.
//
//	go run ./bench/logs [-lines 5000000] [-reps 7] [-records embedded|sqlite] [-skip-vl]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
	"github.com/blocktorch/blocktorch/internal/web"
)

const vlVersion = "v1.52.1"

func main() {
	lines := flag.Int("lines", 5_000_000, "log lines to generate and ingest")
	batch := flag.Int("batch", 10_000, "lines per HTTP request")
	senders := flag.Int("senders", 2, "concurrent HTTP senders")
	reps := flag.Int("reps", 7, "timed repetitions of each query (after one warmup)")
	skipVL := flag.Bool("skip-vl", false, "measure blocktorch only")
	records := flag.String("records", "embedded", "blocktorch's records engine: embedded or sqlite")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of blocktorch's ingest to this file")
	flag.Parse()
	if *records != "embedded" && *records != "sqlite" {
		fmt.Fprintln(os.Stderr, "bench-logs: -records must be embedded or sqlite")
		os.Exit(2)
	}
	if err := run(config{lines: *lines, batch: *batch, senders: *senders, reps: *reps, skipVL: *skipVL, cpuprofile: *cpuprofile,
		records: *records}); err != nil {
		fmt.Fprintln(os.Stderr, "bench-logs:", err)
		os.Exit(1)
	}
}

type config struct {
	lines, batch, senders, reps int
	skipVL                      bool
	cpuprofile                  string
	records                     string
}

// system is one of the two log stores under test.
type system struct {
	name   string
	ingest time.Duration
	// cpu is the CPU time the store spent ingesting: for blocktorch the
	// bench process less what generating and sending cost while feeding
	// VictoriaLogs (when measured), for VictoriaLogs its process.
	cpu, clientCPU time.Duration
	bytes          int64
	latency        [][]time.Duration // per query
	// queryCPU is the CPU time the store spent per query run: the bench
	// process for blocktorch (its client's share included),
	// VictoriaLogs' process for it. Unlike latency, it does not grow
	// with what else the machine runs.
	queryCPU [][]time.Duration
	hits     []int // per query, from the last run
}

func run(cfg config) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "bench-logs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gen := newCorpus(cfg.lines)
	fmt.Printf("corpus: %d lines, seed %d, times %s to %s\n", cfg.lines, seed,
		corpusStart.Format(time.RFC3339), gen.end().Format(time.RFC3339))

	var systems []*system
	bt, err := benchBlocktorch(ctx, cfg, gen, filepath.Join(tmp, "blocktorch"))
	if err != nil {
		return fmt.Errorf("blocktorch: %w", err)
	}
	systems = append(systems, bt)
	if !cfg.skipVL {
		vl, err := benchVictoriaLogs(ctx, cfg, gen, filepath.Join(tmp, "vl"))
		if err != nil {
			return fmt.Errorf("victorialogs: %w", err)
		}
		systems = append(systems, vl)
	}
	report(cfg, gen, systems)
	return nil
}

// send posts the corpus in NDJSON batches to url with cfg.senders
// concurrent requests, printing progress.
func send(ctx context.Context, cfg config, gen *corpus, name, url string, ok func(*http.Response) error) (time.Duration, error) {
	type job struct{ body []byte }
	jobs := make(chan job, cfg.senders)
	errc := make(chan error, cfg.senders+1)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Minute}
	for range cfg.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				resp, err := client.Post(url, "application/x-ndjson", bytes.NewReader(j.body))
				if err == nil {
					err = ok(resp)
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					errc <- err
					for range jobs { // drain
					}
					return
				}
			}
		}()
	}
	start := time.Now()
	lastPrint := start
	var buf []byte
	for i := 0; i < gen.n; i += cfg.batch {
		buf = buf[:0]
		for k := i; k < min(i+cfg.batch, gen.n); k++ {
			buf = gen.line(buf, k)
		}
		select {
		case jobs <- job{body: bytes.Clone(buf)}:
		case err := <-errc:
			close(jobs)
			wg.Wait()
			return 0, err
		}
		if now := time.Now(); now.Sub(lastPrint) > 2*time.Second {
			lastPrint = now
			done := i + cfg.batch
			fmt.Printf("\r%s: %d/%d lines, %.0f lines/s   ", name, done, gen.n, float64(done)/now.Sub(start).Seconds())
		}
	}
	close(jobs)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return 0, err
	}
	d := time.Since(start)
	fmt.Printf("\r%s: %d lines in %s, %.0f lines/s          \n", name, gen.n, d.Round(time.Millisecond), float64(gen.n)/d.Seconds())
	return d, nil
}

// engine is blocktorch's records engine under test.
type engine interface {
	store.RecordWriter
	store.Searcher
}

func benchBlocktorch(ctx context.Context, cfg config, gen *corpus, dir string) (*system, error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "blocktorch.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var (
		eng      engine = db
		closeEng        = func() error { return nil }
	)
	if cfg.records == "embedded" {
		e, err := vlogs.Open(ctx, filepath.Join(dir, "records"), vlogs.Options{CursorKey: db.CursorKey()})
		if err != nil {
			return nil, err
		}
		eng, closeEng = e, e.Close
		defer e.Close()
	}
	srv, err := web.New(web.Deps{Chain: db, Contracts: db, Search: eng, Ingest: logingest.New(eng, logingest.Options{}),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	cpu0 := selfCPU()
	d, err := send(ctx, cfg, gen, "blocktorch ("+cfg.records+")", base+"/api/v1/logs", func(r *http.Response) error {
		if r.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 500))
			return fmt.Errorf("ingest answered %s: %s", r.Status, b)
		}
		return nil
	})
	if cfg.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	sys := &system{name: "blocktorch", ingest: d, cpu: selfCPU() - cpu0}
	settle("blocktorch", selfCPU)
	client := &http.Client{Timeout: 5 * time.Minute}
	for i, q := range queries {
		u := q.blocktorchURL(base, gen)
		lat, cpu, hits, err := timeQuery(cfg.reps, selfCPU, func() (int, error) { return runBlocktorch(ctx, client, u) })
		if err != nil {
			return nil, fmt.Errorf("query %d (%s): %w", i+1, q.name, err)
		}
		sys.latency = append(sys.latency, lat)
		sys.queryCPU = append(sys.queryCPU, cpu)
		sys.hits = append(sys.hits, hits)
	}
	hs.Close()
	// Sizes once every part is on disk (SQLite's WAL checkpointed, the
	// engine's in-memory parts written, its log empty).
	if err := closeEng(); err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	sys.bytes = dirSize(dir)
	if cfg.records == "embedded" {
		links := fileSize(filepath.Join(dir, "records", "links.db"))
		fmt.Printf("blocktorch on disk: engine %.1f B/line, link index %.1f B/line, rest %.1f B/line\n",
			float64(dirSize(filepath.Join(dir, "records", "data")))/float64(gen.n), float64(links)/float64(gen.n),
			float64(sys.bytes-dirSize(filepath.Join(dir, "records", "data"))-links)/float64(gen.n))
	}
	return sys, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// runBlocktorch runs one search through the HTTP API and returns how many
// records or table rows it answered.
func runBlocktorch(ctx context.Context, client *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var env struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Records []json.RawMessage `json:"records"`
			Table   *struct {
				Rows []json.RawMessage `json:"rows"`
			} `json:"table"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return 0, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if env.Status != "success" {
		return 0, fmt.Errorf("%s: %s", resp.Status, env.Error)
	}
	if env.Data.Table != nil {
		return len(env.Data.Table.Rows), nil
	}
	return len(env.Data.Records), nil
}

func timeQuery(reps int, cpuNow func() time.Duration, fn func() (int, error)) ([]time.Duration, []time.Duration, int, error) {
	hits, err := fn() // warmup
	if err != nil {
		return nil, nil, 0, err
	}
	var lat, cpu []time.Duration
	for range reps {
		start, c0 := time.Now(), cpuNow()
		if hits, err = fn(); err != nil {
			return nil, nil, 0, err
		}
		lat = append(lat, time.Since(start))
		cpu = append(cpu, cpuNow()-c0)
	}
	return lat, cpu, hits, nil
}

func benchVictoriaLogs(ctx context.Context, cfg config, gen *corpus, dir string) (*system, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	// The server `make victoria-logs` built (bin/victoria-logs-VERSION,
	// or $BLOCKTORCH_VICTORIALOGS), else one installed now.
	exe := os.Getenv("BLOCKTORCH_VICTORIALOGS")
	if exe == "" {
		if _, err := os.Stat(filepath.Join("bin", "victoria-logs-"+vlVersion)); err == nil {
			exe = filepath.Join("bin", "victoria-logs-"+vlVersion)
		}
	}
	if exe == "" {
		fmt.Printf("installing victoria-logs %s (go install, first time takes a few minutes)…\n", vlVersion)
		install := exec.CommandContext(ctx, "go", "install", "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@"+vlVersion)
		install.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod")
		install.Dir = dir
		install.Stdout, install.Stderr = os.Stdout, os.Stderr
		if err := install.Run(); err != nil {
			return nil, fmt.Errorf("cannot install victoria-logs: %w", err)
		}
		exe = filepath.Join(bin, "victoria-logs")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(dir, "data")
	cmd := exec.CommandContext(ctx, exe, "-storageDataPath", data,
		"-httpListenAddr", addr, "-retentionPeriod", "100y", "-loggerLevel", "ERROR")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
	}
	defer stop()
	base := "http://" + addr
	for i := 0; ; i++ {
		if r, err := http.Get(base + "/health"); err == nil {
			r.Body.Close()
			break
		}
		if i > 100 {
			return nil, fmt.Errorf("victoria-logs did not start on %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cpu0, self0 := procCPU(cmd.Process.Pid), selfCPU()
	d, err := send(ctx, cfg, gen, "victorialogs", base+"/insert/jsonline?_stream_fields=source,service&_msg_field=msg&_time_field=time",
		func(r *http.Response) error {
			if r.StatusCode/100 != 2 {
				b, _ := io.ReadAll(io.LimitReader(r.Body, 500))
				return fmt.Errorf("ingest answered %s: %s", r.Status, b)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	// Make everything searchable and on disk before measuring.
	if r, err := http.Get(base + "/internal/force_flush"); err == nil {
		r.Body.Close()
	}
	time.Sleep(2 * time.Second)
	sys := &system{name: "victorialogs", ingest: d, cpu: procCPU(cmd.Process.Pid) - cpu0, clientCPU: selfCPU() - self0}
	settle("victorialogs", func() time.Duration { return threadsCPU(cmd.Process.Pid) })
	for i, q := range queries {
		lq := q.logsql(gen)
		pid := cmd.Process.Pid
		lat, cpu, hits, err := timeQuery(cfg.reps, func() time.Duration { return threadsCPU(pid) },
			func() (int, error) { return runLogsQL(base, lq, q.limit) })
		if err != nil {
			return nil, fmt.Errorf("query %d (%s): %w", i+1, q.name, err)
		}
		sys.latency = append(sys.latency, lat)
		sys.queryCPU = append(sys.queryCPU, cpu)
		sys.hits = append(sys.hits, hits)
	}
	// Its size once stopped: a graceful stop writes every in-memory part.
	stop()
	sys.bytes = dirSize(data)
	return sys, nil
}

// runLogsQL runs q and returns the number of result lines.
func runLogsQL(base, q string, limit int) (int, error) {
	v := url.Values{"query": {q}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	r, err := http.PostForm(base+"/select/logsql/query", v)
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 500))
		return 0, fmt.Errorf("%s: %s", r.Status, b)
	}
	n := 0
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	return n, sc.Err()
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// benchQuery is one of the fixed queries, in both languages.
type benchQuery struct {
	name      string
	selective bool // the aim is p50 ≤ 50 ms at 5M lines
	limit     int  // rows asked for (0: all)
	bt        func(g *corpus) (q string, from, to time.Time)
	lq        func(g *corpus) string
}

// blocktorchURL is the query's GET /api/v1/search URL on base.
func (q benchQuery) blocktorchURL(base string, g *corpus) string {
	text, from, to := q.bt(g)
	limit := q.limit
	if limit == 0 {
		limit = query.MaxLimit
	}
	v := url.Values{"q": {text}, "limit": {strconv.Itoa(limit)}}
	if !from.IsZero() {
		v.Set("from", from.Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		v.Set("to", to.Format(time.RFC3339Nano))
	}
	return base + "/api/v1/search?" + v.Encode()
}

func (q benchQuery) logsql(g *corpus) string { return q.lq(g) }

func plain(s string) func(*corpus) (string, time.Time, time.Time) {
	return func(*corpus) (string, time.Time, time.Time) { return s, time.Time{}, time.Time{} }
}

var queries = []benchQuery{
	{name: "rare word", selective: true, bt: plain("kaboom"), lq: func(*corpus) string { return "kaboom" }},
	{name: "common word, limit 100", selective: true, limit: 100, bt: plain("wallet"), lq: func(*corpus) string { return "wallet" }},
	{name: "phrase, limit 100", selective: true, limit: 100, bt: plain(`"signature request"`),
		lq: func(*corpus) string { return `"signature request"` }},
	{name: "field filter, limit 100", selective: true, limit: 100, bt: plain("service:liquidator"),
		lq: func(*corpus) string { return "service:liquidator" }},
	{name: "tx hash", selective: true,
		bt: func(g *corpus) (string, time.Time, time.Time) { return "tx:" + g.probeTx(), time.Time{}, time.Time{} },
		lq: func(g *corpus) string { return strconv.Quote(g.probeTx()) }},
	{name: "address", selective: true, limit: 100,
		bt: func(g *corpus) (string, time.Time, time.Time) {
			return "address:" + g.probeAddr(), time.Time{}, time.Time{}
		},
		lq: func(g *corpus) string { return strconv.Quote(g.probeAddr()) }},
	{name: "1-minute time range, limit 100", selective: true, limit: 100,
		bt: func(g *corpus) (string, time.Time, time.Time) { f, t := g.window(); return "*", f, t },
		lq: func(g *corpus) string {
			f, t := g.window()
			return fmt.Sprintf("_time:[%s, %s)", f.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
		}},
	{name: "error attr filter", selective: true, bt: plain("level:error attr.user.id:4242"),
		lq: func(*corpus) string { return "level:error user.id:4242" }},
	{name: "count by level", bt: plain("* | stats count() by level"),
		lq: func(*corpus) string { return "* | stats by (level) count()" }},
	{name: "top 10 services", bt: plain("* | top 10 service"),
		lq: func(*corpus) string { return "* | top 10 (service)" }},
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

func report(cfg config, gen *corpus, systems []*system) {
	fmt.Printf("\n%d lines (%.0f B/line of JSON), GOMAXPROCS %d, %d senders of %d-line batches\n\n",
		gen.n, float64(gen.bytes())/float64(gen.n), runtime.GOMAXPROCS(0), cfg.senders, cfg.batch)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "\t")
	for _, s := range systems {
		fmt.Fprintf(w, "%s\t", s.name)
	}
	if len(systems) == 2 {
		fmt.Fprint(w, "blocktorch/VL\t")
	}
	fmt.Fprintln(w)
	rate := func(s *system) float64 { return float64(gen.n) / s.ingest.Seconds() }
	perLine := func(s *system) float64 { return float64(s.bytes) / float64(gen.n) }
	row := func(label string, f func(*system) float64, format string) {
		fmt.Fprintf(w, "%s\t", label)
		for _, s := range systems {
			fmt.Fprintf(w, format+"\t", f(s))
		}
		if len(systems) == 2 {
			fmt.Fprintf(w, "%.2f×\t", f(systems[0])/f(systems[1]))
		}
		fmt.Fprintln(w)
	}
	row("ingest lines/s", rate, "%.0f")
	cpuLabel, adjustNote := "ingest lines/CPU-s", ""
	if len(systems) == 2 {
		// The bench process generated and sent the lines in both runs:
		// take that cost, measured while feeding VictoriaLogs, out of
		// blocktorch's, and say so under the table.
		raw := systems[0].cpu
		systems[0].cpu -= systems[1].clientCPU
		cpuLabel += " (blocktorch adjusted †)"
		adjustNote = fmt.Sprintf("† blocktorch's CPU figure is adjusted: %.2f s measured in the bench process, less %.2f s that generating and sending the lines cost (measured while feeding VictoriaLogs) = %.2f s; unadjusted %.0f lines/CPU-s.",
			raw.Seconds(), systems[1].clientCPU.Seconds(), systems[0].cpu.Seconds(), float64(gen.n)/raw.Seconds())
		if systems[0].cpu <= 0 {
			adjustNote += " The adjusted figure is not positive: the run was too short to separate the two costs; use more -lines."
		}
	}
	row(cpuLabel, func(s *system) float64 { return float64(gen.n) / s.cpu.Seconds() }, "%.0f")
	row("bytes on disk/line", perLine, "%.1f")
	w.Flush()
	if adjustNote != "" {
		fmt.Println(adjustNote)
	}
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(w, "query\t")
	for _, s := range systems {
		fmt.Fprintf(w, "%s p50 ms\tp95 ms\tCPU p50 ms\thits\t", s.name)
	}
	if len(systems) == 2 {
		fmt.Fprint(w, "p50 ratio\tCPU ratio\t")
	}
	fmt.Fprintln(w)
	for i, q := range queries {
		name := q.name
		if q.selective {
			name += " *"
		}
		fmt.Fprintf(w, "%d. %s\t", i+1, name)
		for _, s := range systems {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t", ms(pct(s.latency[i], 0.5)), ms(pct(s.latency[i], 0.95)),
				ms(pct(s.queryCPU[i], 0.5)), s.hits[i])
		}
		if len(systems) == 2 {
			fmt.Fprintf(w, "%.2f×\t%.2f×\t", float64(pct(systems[0].latency[i], 0.5))/float64(pct(systems[1].latency[i], 0.5)),
				float64(pct(systems[0].queryCPU[i], 0.5))/float64(max(pct(systems[1].queryCPU[i], 0.5), time.Millisecond/10)))
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	fmt.Println("\n* selective: the aim is p50 ≤ 50 ms at 5M lines. Ratios are blocktorch ÷ VictoriaLogs (below 1: blocktorch faster or smaller, except lines/s).")
	fmt.Printf("Both over HTTP on 127.0.0.1: blocktorch's GET /api/v1/search on its %s engine, VictoriaLogs' /select/logsql/query.\n", cfg.records)
}

// settle waits until a store is idle after its ingest (its process used
// under 5% of a core over a second), at most two minutes: both merge the
// parts they wrote in the background for a while, and a query's CPU
// time is its process's, so that work would be counted to the first
// queries timed.
func settle(name string, cpu func() time.Duration) {
	start := time.Now()
	for time.Since(start) < 2*time.Minute {
		c0 := cpu()
		time.Sleep(time.Second)
		if cpu()-c0 < 50*time.Millisecond {
			break
		}
	}
	fmt.Printf("%s idle after %s\n", name, time.Since(start).Round(time.Second))
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU returns the CPU time process pid has used, from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// threadsCPU returns the CPU time process pid has used, in nanoseconds,
// summed over its threads' /proc schedstat (procCPU counts 10 ms ticks,
// too coarse for one query); threads that ended are not counted, which
// a server's long-lived workers make negligible within one query.
func threadsCPU(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			n += v
		}
	}
	return time.Duration(n)
}
