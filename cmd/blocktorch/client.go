package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// defaultServer is where the CLI looks for a server when neither --server
// nor BLOCKTORCH_SERVER says.
const defaultServer = "http://127.0.0.1:8080"

// serverFlags are the flags of every command that talks to a server.
type serverFlags struct {
	server, key string
}

// register adds --server and --key. The key's flag has no default: a
// default would show the key in -h.
func (f *serverFlags) register(fs *flag.FlagSet, serverUsage string) {
	if serverUsage == "" {
		serverUsage = "`URL` of the running blocktorch server (default $BLOCKTORCH_SERVER, else " + defaultServer + ")"
	}
	fs.StringVar(&f.server, "server", "", serverUsage)
	fs.StringVar(&f.key, "key", "", "an API `KEY` (blocktorch keys create) or the server's operator key, sent as a Bearer token (default $BLOCKTORCH_KEY; prefer the variable: a flag shows in ps)")
}

// client returns the API client for the server the flags and environment
// name; server is "" when neither names one and def is "".
func (f *serverFlags) client(def string) *client {
	server := f.server
	if server == "" {
		server = envOr("BLOCKTORCH_SERVER", def)
	}
	key := f.key
	if key == "" {
		key = os.Getenv("BLOCKTORCH_KEY")
	}
	return &client{server: strings.TrimRight(server, "/"), key: key}
}

// client talks to a running server's /api/v1. Its errors never hold the
// key, and say what to do when the server cannot be reached or refuses.
type client struct {
	server string
	key    string // operator key; empty: none
	// actor names who makes a change in the server's audit log (sent as
	// X-Blocktorch-Actor); empty sends none.
	actor string
}

// apiEnvelope is the answer of every /api/v1 endpoint.
type apiEnvelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorKind string          `json:"errorKind"`
	Error     string          `json:"error"`
	Caret     string          `json:"caret"` // a query error's caret line
}

// maxAnswer caps what the CLI reads of one answer.
const maxAnswer = 256 << 20

// do sends one request with the key and returns the answer when its
// status is not a refusal of access; the caller closes the body.
func (c *client) do(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w (set --server or BLOCKTORCH_SERVER)", c.server, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.actor != "" && !strings.ContainsFunc(c.actor, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		req.Header.Set("X-Blocktorch-Actor", c.actor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("the blocktorch server at %s did not answer in time", c.server)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the blocktorch server at %s: %w (is it running? set --server or BLOCKTORCH_SERVER)", c.server, err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// The server's own words say what was missing (a login, a scope,
		// a role); they never hold the key.
		var env apiEnvelope
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		why := ""
		if json.Unmarshal(answer, &env) == nil && env.Error != "" {
			why = ": " + oneLine(env.Error)
		}
		if c.key == "" {
			return nil, fmt.Errorf("the blocktorch server at %s needs its operator key: set BLOCKTORCH_KEY or --key (an API key from blocktorch keys create, or the operator key)%s", c.server, why)
		}
		if resp.StatusCode == http.StatusForbidden && env.ErrorKind == "denied" {
			return nil, fmt.Errorf("the blocktorch server at %s refused the key (HTTP 403)%s: set BLOCKTORCH_KEY or --key to a key that may do this", c.server, why)
		}
		return nil, fmt.Errorf("the blocktorch server at %s refused the key (HTTP %d)%s: set BLOCKTORCH_KEY or --key to its operator key or a live API key", c.server, resp.StatusCode, why)
	}
	return resp, nil
}

// call sends one request and decodes the envelope's data into v (nil:
// ignore it).
func (c *client) call(ctx context.Context, method, path, contentType string, body []byte, v any) error {
	resp, err := c.do(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var env apiEnvelope
	if err := json.Unmarshal(answer, &env); err != nil {
		return fmt.Errorf("unexpected answer from %s (HTTP %d): %.200s", c.server, resp.StatusCode, answer)
	}
	if env.Status != "success" {
		if env.Caret != "" {
			return fmt.Errorf("%s\n%s", env.Error, env.Caret)
		}
		return fmt.Errorf("%s", env.Error)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(env.Data, v)
}

func (c *client) get(ctx context.Context, path string, v any) error {
	return c.call(ctx, http.MethodGet, path, "", nil, v)
}

func (c *client) post(ctx context.Context, path, contentType string, body []byte, v any) error {
	return c.call(ctx, http.MethodPost, path, contentType, body, v)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
