package ethrpctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Server is a JSON-RPC node on 127.0.0.1 for tests. It serves single and
// batch requests over HTTP at URL, and eth_subscribe newHeads (plus a few
// eth_ reads) over a websocket at WSURL. Faults apply to HTTP only.
type Server struct {
	// URL is the http:// endpoint; WSURL the ws:// one.
	URL, WSURL string

	upstream Handler
	ts       *httptest.Server
	ws       *wsService

	mu        sync.Mutex
	faults    map[string][]*fault
	requests  map[string]int // JSON-RPC requests (batch elements) per method
	httpByM   map[string]int // HTTP requests that held the method
	httpTotal int
}

// NewServer starts a server answering from upstream (a *Recording, a Proxy,
// or any Handler). It is closed when the test ends.
func NewServer(t testing.TB, upstream Handler) *Server {
	t.Helper()
	s := &Server{
		upstream: upstream,
		faults:   make(map[string][]*fault),
		requests: make(map[string]int),
		httpByM:  make(map[string]int),
	}
	s.ws = newWSService(upstream)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	s.WSURL = "ws" + strings.TrimPrefix(s.ts.URL, "http")
	t.Cleanup(func() {
		s.ts.CloseClientConnections()
		s.ts.Close()
		s.ws.close()
		if c, ok := upstream.(io.Closer); ok {
			c.Close()
		}
	})
	return s
}

// Requests returns how many JSON-RPC requests for method the server
// received; each element of a batch counts.
func (s *Server) Requests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// HTTPRequests returns how many HTTP requests held at least one call of
// method, or all HTTP requests for method "".
func (s *Server) HTTPRequests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method == "" {
		return s.httpTotal
	}
	return s.httpByM[method]
}

// Counts returns a copy of the per-method request counts.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

// ResetCounts sets all counters to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
	clear(s.httpByM)
	s.httpTotal = 0
}

// Inject arms fault f for the next times requests of method (times <= 0:
// until ClearFaults). Faults on the whole HTTP exchange (status, delay,
// truncation) count HTTP requests holding the method; faults on an answer
// (error, null, mutation) count JSON-RPC requests. Faults armed for the
// same method fire in the order they were armed.
func (s *Server) Inject(method string, times int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], &fault{Fault: f, left: times})
}

// ClearFaults disarms all faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

type faultKind int

const (
	faultStatus faultKind = iota + 1
	faultDelay
	faultTruncate
	faultError
	faultMutate
)

// Fault is one kind of misbehaviour, made by the functions below.
type Fault struct {
	kind       faultKind
	status     int
	retryAfter time.Duration
	delay      time.Duration
	err        *RPCError
	mutate     func(result json.RawMessage) json.RawMessage
}

func (f Fault) wholeRequest() bool { return f.kind <= faultTruncate }

type fault struct {
	Fault
	left int // <= 0: forever
}

// StatusCode answers the HTTP request with status (e.g. 500, 502, 403) and
// a short body.
func StatusCode(status int) Fault { return Fault{kind: faultStatus, status: status} }

// TooManyRequests answers HTTP 429 with a Retry-After header of retryAfter
// rounded up to whole seconds.
func TooManyRequests(retryAfter time.Duration) Fault {
	return Fault{kind: faultStatus, status: http.StatusTooManyRequests, retryAfter: retryAfter}
}

// Delay holds the answer back for d (or until the client gives up).
func Delay(d time.Duration) Fault { return Fault{kind: faultDelay, delay: d} }

// Truncate cuts the response body in half.
func Truncate() Fault { return Fault{kind: faultTruncate} }

// Error answers the call with a JSON-RPC error object.
func Error(code int, message string) Fault {
	return Fault{kind: faultError, err: &RPCError{Code: code, Message: message}}
}

// Null answers the call with a null result, like a block not yet mined.
func Null() Fault {
	return Mutate(func(json.RawMessage) json.RawMessage { return json.RawMessage("null") })
}

// Mutate answers with fn applied to the upstream's result: a syntactically
// valid but wrong answer. Upstream errors are passed through unchanged.
func Mutate(fn func(result json.RawMessage) json.RawMessage) Fault {
	return Fault{kind: faultMutate, mutate: fn}
}

// Rewind makes eth_blockNumber (or any quantity result) answer by less.
func Rewind(by uint64) Fault {
	return Mutate(func(res json.RawMessage) json.RawMessage {
		var n hexutil.Uint64
		if json.Unmarshal(res, &n) != nil {
			return res
		}
		out, _ := json.Marshal(hexutil.Uint64(uint64(n) - min(uint64(n), by)))
		return out
	})
}

// SetField returns a mutation that sets key of a JSON object result to
// value, such as SetField("number", "0x5") for a block with a wrong number.
func SetField(key string, value any) func(json.RawMessage) json.RawMessage {
	return func(res json.RawMessage) json.RawMessage {
		var obj map[string]json.RawMessage
		if json.Unmarshal(res, &obj) != nil || obj == nil {
			return res
		}
		v, err := json.Marshal(value)
		if err != nil {
			return res
		}
		obj[key] = v
		out, _ := json.Marshal(obj)
		return out
	}
}

// DropLast returns a mutation that removes the last element of an array
// result, such as a receipt list missing an entry.
func DropLast() func(json.RawMessage) json.RawMessage {
	return func(res json.RawMessage) json.RawMessage {
		var list []json.RawMessage
		if json.Unmarshal(res, &list) != nil || len(list) == 0 {
			return res
		}
		out, _ := json.Marshal(list[:len(list)-1])
		return out
	}
}

// take returns the first armed fault of method of the given level, counting
// it down.
func (s *Server) take(method string, whole bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.faults[method]
	for i, f := range list {
		if f.wholeRequest() != whole {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults[method] = append(list[:i:i], list[i+1:]...)
			}
		}
		out := f.Fault
		return &out
	}
	return nil
}

type jsonrpcMessage struct {
	Version string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// maxBody bounds request bodies.
const maxBody = 32 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.ws.handler.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "JSON-RPC wants POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return
	}
	var (
		msgs  []*jsonrpcMessage
		batch = len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '['
	)
	if batch {
		err = json.Unmarshal(body, &msgs)
	} else {
		var m jsonrpcMessage
		err = json.Unmarshal(body, &m)
		msgs = []*jsonrpcMessage{&m}
	}
	if err != nil {
		writeJSON(w, &jsonrpcMessage{Version: "2.0", ID: json.RawMessage("null"), Error: &RPCError{Code: -32700, Message: "parse error: " + err.Error()}}, false)
		return
	}

	// Count, and find the first fault on the whole exchange.
	s.mu.Lock()
	s.httpTotal++
	seen := make(map[string]bool)
	var methods []string
	for _, m := range msgs {
		s.requests[m.Method]++
		if !seen[m.Method] {
			seen[m.Method] = true
			methods = append(methods, m.Method)
			s.httpByM[m.Method]++
		}
	}
	s.mu.Unlock()
	var whole *Fault
	for _, m := range methods {
		if whole = s.take(m, true); whole != nil {
			break
		}
	}
	if whole != nil {
		switch whole.kind {
		case faultStatus:
			if whole.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((whole.retryAfter+time.Second-1)/time.Second)))
			}
			http.Error(w, http.StatusText(whole.status), whole.status)
			return
		case faultDelay:
			t := time.NewTimer(whole.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
	}

	out := make([]*jsonrpcMessage, len(msgs))
	for i, m := range msgs {
		out[i] = s.answer(r.Context(), m)
	}
	var resp []byte
	if batch {
		resp, err = json.Marshal(out)
	} else {
		resp, err = json.Marshal(out[0])
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if whole != nil && whole.kind == faultTruncate {
		resp = resp[:len(resp)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
}

func (s *Server) answer(ctx context.Context, m *jsonrpcMessage) *jsonrpcMessage {
	resp := &jsonrpcMessage{Version: "2.0", ID: m.ID}
	if m.ID == nil {
		resp.ID = json.RawMessage("null")
	}
	f := s.take(m.Method, false)
	if f != nil && f.kind == faultError {
		resp.Error = f.err
		return resp
	}
	res, err := s.upstream.ServeRPC(ctx, m.Method, m.Params)
	if err != nil {
		var re *RPCError
		if !errors.As(err, &re) {
			re = &RPCError{Code: -32603, Message: err.Error()}
		}
		resp.Error = re
		return resp
	}
	if len(res) == 0 {
		res = json.RawMessage("null")
	}
	if f != nil && f.kind == faultMutate {
		res = f.mutate(res)
	}
	resp.Result = res
	return resp
}

func writeJSON(w http.ResponseWriter, v any, _ bool) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
