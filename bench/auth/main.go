// Command auth measures what accounts cost a request: the same GET
// /api/v1/me through the whole handler (host and cross-site checks,
// identification, permission, the answer) on a SQLite store: the peer, a
// server without accounts or key (nothing to identify, as before
// accounts); an open server with accounts but no user yet (it counts the
// users on every request, so that a user made on another node closes it at
// once); and with the operator key, a user's session cookie and an API
// key; and the cost of one password login
// (argon2id at the default parameters) next to one with a wrong password
// for a user that does not exist (the same work, so a login does not tell
// which names exist).
//
//	go run ./bench/auth [-n 20000] [-logins 50]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

func main() {
	n := flag.Int("n", 20000, "requests per caller")
	logins := flag.Int("logins", 50, "password logins to time")
	flag.Parse()
	if err := run(*n, *logins); err != nil {
		log.Fatal(err)
	}
}

// server is a handler over a fresh SQLite store.
func server(dir, key string, users bool) (http.Handler, *sqlite.DB, error) {
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("bench-%s-%v.db", key, users)))
	if err != nil {
		return nil, nil, err
	}
	deps := web.Deps{Chain: st, Contracts: st, Search: st, OperatorKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if users {
		deps.Accounts = st
	}
	h, err := web.New(deps)
	return h, st, err
}

// timeRequests sends req n times straight to h and returns the sorted
// latencies; every answer must be 200.
func timeRequests(h http.Handler, n int, hdr ...string) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		req := httptest.NewRequest("GET", "http://127.0.0.1/api/v1/me", nil)
		for j := 0; j+1 < len(hdr); j += 2 {
			req.Header.Set(hdr[j], hdr[j+1])
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("request %d: status %d: %s", i, rec.Code, rec.Body.String())
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

func mean(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

func run(n, logins int) error {
	dir, err := os.MkdirTemp("", "bench-auth")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	plain, stp, err := server(dir, "", false)
	if err != nil {
		return err
	}
	defer stp.Close()
	open, st0, err := server(dir, "", true)
	if err != nil {
		return err
	}
	defer st0.Close()
	const opKey = "bench-operator-key-0123456789"
	guarded, st, err := server(dir, opKey, true)
	if err != nil {
		return err
	}
	defer st.Close()
	acct := auth.NewAccounts(st, nil, opKey, nil)
	const pw = "a benchmark password"
	if _, err := acct.CreateUser(ctx, auth.Local, "ana", auth.RoleViewer, pw, ""); err != nil {
		return err
	}
	k, err := acct.CreateKey(ctx, auth.Local, "bench", []string{"read"}, "")
	if err != nil {
		return err
	}
	// Log in through the handler, timing each login.
	var good, bad []time.Duration
	var cookie string
	for i := range logins {
		for _, c := range []struct {
			name string
			into *[]time.Duration
		}{{"ana", &good}, {fmt.Sprint("nobody", i), &bad}} {
			form := url.Values{"user": {c.name}, "password": {pw}}.Encode()
			req := httptest.NewRequest("POST", "http://127.0.0.1/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = fmt.Sprintf("10.0.%d.%d:1", i/250, i%250) // one address per attempt: the throttle is not under test
			rec := httptest.NewRecorder()
			start := time.Now()
			guarded.ServeHTTP(rec, req)
			*c.into = append(*c.into, time.Since(start))
			if c.name == "ana" {
				if rec.Code != http.StatusSeeOther {
					return fmt.Errorf("login: %d", rec.Code)
				}
				for _, ck := range rec.Result().Cookies() {
					if ck.Name == auth.SessionCookie {
						cookie = ck.Name + "=" + ck.Value
					}
				}
			}
		}
	}
	slices.Sort(good)
	slices.Sort(bad)

	fmt.Printf("GET /api/v1/me through the handler, SQLite, %d requests each\n", n)
	fmt.Printf("%-34s %10s %10s %10s\n", "caller", "mean", "p50", "p99")
	for _, c := range []struct {
		name string
		h    http.Handler
		hdr  []string
	}{
		{"no accounts, no key (peer)", plain, nil},
		{"open server (no user yet)", open, nil},
		{"operator key (Bearer)", guarded, []string{"Authorization", "Bearer " + opKey}},
		{"user session (cookie)", guarded, []string{"Cookie", cookie}},
		{"API key (Bearer)", guarded, []string{"Authorization", "Bearer " + k.Secret}},
	} {
		ds, err := timeRequests(c.h, n, c.hdr...)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Printf("%-34s %10s %10s %10s\n", c.name, mean(ds).Round(100*time.Nanosecond), pct(ds, .5).Round(100*time.Nanosecond), pct(ds, .99).Round(100*time.Nanosecond))
	}
	p := auth.DefaultPasswordParams
	fmt.Printf("\nPOST /login, argon2id m=%d KiB t=%d p=%d, %d each\n", p.Memory, p.Time, p.Threads, logins)
	fmt.Printf("%-34s %10s %10s %10s\n", "login", "mean", "p50", "p99")
	fmt.Printf("%-34s %10s %10s %10s\n", "right password", mean(good).Round(time.Microsecond), pct(good, .5).Round(time.Microsecond), pct(good, .99).Round(time.Microsecond))
	fmt.Printf("%-34s %10s %10s %10s\n", "unknown user (dummy hash)", mean(bad).Round(time.Microsecond), pct(bad, .5).Round(time.Microsecond), pct(bad, .99).Round(time.Microsecond))
	return nil
}
