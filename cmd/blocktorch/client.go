package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

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

// apiCall sends one request to a running server and decodes the
// envelope's data into v (nil: ignore it). Its errors say what to do when
// the server cannot be reached.
func apiCall(ctx context.Context, method, server, path, contentType string, body []byte, v any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(server, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("bad --server URL: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the blocktorch server at %s: %w (is it running? set --server)", server, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var env apiEnvelope
	if err := json.Unmarshal(answer, &env); err != nil {
		return fmt.Errorf("unexpected answer from %s (HTTP %d): %.200s", server, resp.StatusCode, answer)
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

func apiGet(ctx context.Context, server, path string, v any) error {
	return apiCall(ctx, http.MethodGet, server, path, "", nil, v)
}

func apiPost(ctx context.Context, server, path, contentType string, body []byte, v any) error {
	return apiCall(ctx, http.MethodPost, server, path, contentType, body, v)
}
