package ethrpctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/ethereum/go-ethereum/rpc"
)

// Handler answers one JSON-RPC call. params is the raw params array (or
// null). An error of type *RPCError becomes that JSON-RPC error object; any
// other error becomes code -32603.
type Handler interface {
	ServeRPC(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)

// ServeRPC calls f.
func (f HandlerFunc) ServeRPC(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	return f(ctx, method, params)
}

// RPCError is a JSON-RPC error object.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// ErrorCode makes RPCError an rpc.Error for go-ethereum's server.
func (e *RPCError) ErrorCode() int { return e.Code }

// ErrorData makes RPCError an rpc.DataError for go-ethereum's server.
func (e *RPCError) ErrorData() any { return e.Data }

// MethodNotFound is the error of a method the node does not offer.
func MethodNotFound(method string) *RPCError {
	return &RPCError{Code: -32601, Message: fmt.Sprintf("the method %s does not exist/is not available", method)}
}

// Recording answers from recorded (method, params) → result pairs. It is
// safe for concurrent use.
type Recording struct {
	mu       sync.RWMutex
	answers  map[string]answer // by key(method, params)
	defaults map[string]answer // by method, for params not recorded
}

type answer struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *RPCError       `json:"error,omitempty"`
}

// NewRecording returns an empty recording.
func NewRecording() *Recording {
	return &Recording{answers: make(map[string]answer), defaults: make(map[string]answer)}
}

// Set records the answer to method(params...). A result of type *RPCError
// records an error; anything else is marshalled as the result (nil: null).
func (r *Recording) Set(method string, params []any, result any) {
	p, err := json.Marshal(params)
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot marshal params of %s: %v", method, err))
	}
	a := makeAnswer(method, p, result)
	r.mu.Lock()
	r.answers[key(method, a.Params)] = a
	r.mu.Unlock()
}

// SetDefault records the answer to method with params not recorded by Set,
// such as null for blocks past the head.
func (r *Recording) SetDefault(method string, result any) {
	a := makeAnswer(method, nil, result)
	r.mu.Lock()
	r.defaults[method] = a
	r.mu.Unlock()
}

func makeAnswer(method string, params json.RawMessage, result any) answer {
	a := answer{Method: method, Params: canonical(params)}
	switch v := result.(type) {
	case *RPCError:
		a.Error = v
	case json.RawMessage:
		a.Result = v
	default:
		res, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("BUG: cannot marshal result of %s: %v", method, err))
		}
		a.Result = res
	}
	return a
}

// ServeRPC answers from the recording: a recorded answer, else the method's
// default, else "method not found" when nothing is recorded for the method
// and a -32000 error otherwise.
func (r *Recording) ServeRPC(_ context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.answers[key(method, canonical(params))]
	if !ok {
		a, ok = r.defaults[method]
	}
	if !ok {
		for _, x := range r.answers {
			if x.Method == method {
				return nil, &RPCError{Code: -32000, Message: fmt.Sprintf("no recorded answer for %s%s", method, canonical(params))}
			}
		}
		return nil, MethodNotFound(method)
	}
	if a.Error != nil {
		return nil, a.Error
	}
	return a.Result, nil
}

// Record returns a handler that forwards to upstream and records each
// answer, for saving fixtures from a real node.
func (r *Recording) Record(upstream Handler) Handler {
	return HandlerFunc(func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
		res, err := upstream.ServeRPC(ctx, method, params)
		var re *RPCError
		switch {
		case err == nil:
			r.store(makeAnswer(method, params, res))
		case errors.As(err, &re):
			r.store(makeAnswer(method, params, re))
		}
		return res, err
	})
}

func (r *Recording) store(a answer) {
	r.mu.Lock()
	r.answers[key(a.Method, a.Params)] = a
	r.mu.Unlock()
}

type recordingFile struct {
	Answers  []answer `json:"answers"`
	Defaults []answer `json:"defaults,omitempty"`
}

// Save writes the recording as indented JSON, sorted so that files diff well.
func (r *Recording) Save(path string) error {
	r.mu.RLock()
	var f recordingFile
	for _, a := range r.answers {
		f.Answers = append(f.Answers, a)
	}
	for _, a := range r.defaults {
		a.Params = nil
		f.Defaults = append(f.Defaults, a)
	}
	r.mu.RUnlock()
	for _, list := range [][]answer{f.Answers, f.Defaults} {
		sort.Slice(list, func(i, j int) bool { return key(list[i].Method, list[i].Params) < key(list[j].Method, list[j].Params) })
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode recording: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot save recording: %w", err)
	}
	return nil
}

// LoadRecording reads a recording written by Save.
func LoadRecording(path string) (*Recording, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load recording: %w", err)
	}
	var f recordingFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cannot decode recording %s: %w", path, err)
	}
	r := NewRecording()
	for _, a := range f.Answers {
		a.Params = canonical(a.Params)
		r.answers[key(a.Method, a.Params)] = a
	}
	for _, a := range f.Defaults {
		r.defaults[a.Method] = a
	}
	return r, nil
}

func key(method string, params json.RawMessage) string { return method + string(params) }

// canonical re-encodes params so that equal values compare equal whatever
// their spacing and key order; absent params read as [].
func canonical(params json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(params)) == 0 || bytes.Equal(bytes.TrimSpace(params), []byte("null")) {
		return json.RawMessage("[]")
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return params
	}
	out, err := json.Marshal(v)
	if err != nil {
		return params
	}
	return out
}

// Proxy returns a handler that forwards every call to the node at url
// (http(s) or ws(s)). The connection is opened at the first call and closed
// by Close; NewServer closes it with the server.
func Proxy(url string) *ProxyHandler { return &ProxyHandler{url: url} }

// ProxyHandler forwards calls to a real node.
type ProxyHandler struct {
	url  string
	once sync.Once
	c    *rpc.Client
	err  error
}

// ServeRPC forwards one call.
func (p *ProxyHandler) ServeRPC(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	p.once.Do(func() { p.c, p.err = rpc.DialContext(context.Background(), p.url) })
	if p.err != nil {
		return nil, fmt.Errorf("cannot reach proxied node: %w", p.err)
	}
	var args []json.RawMessage
	if err := json.Unmarshal(canonical(params), &args); err != nil {
		return nil, &RPCError{Code: -32602, Message: "params must be an array"}
	}
	anyArgs := make([]any, len(args))
	for i, a := range args {
		anyArgs[i] = a
	}
	var res json.RawMessage
	err := p.c.CallContext(ctx, &res, method, anyArgs...)
	var re rpc.Error
	if errors.As(err, &re) {
		e := &RPCError{Code: re.ErrorCode(), Message: re.Error()}
		var de rpc.DataError
		if errors.As(err, &de) {
			e.Data = de.ErrorData()
		}
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Close closes the connection to the node.
func (p *ProxyHandler) Close() error {
	p.once.Do(func() { p.err = errors.New("proxy closed") })
	if p.c != nil {
		p.c.Close()
	}
	return nil
}
