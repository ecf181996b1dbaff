package web

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/blocktorch/blocktorch/internal/logingest"
)

// This file is the HTTP side of log ingest: the doors' bodies, keys, CORS
// and answers. Decoding and storing the records is logingest's.

// handleLogs handles /api/v1/logs: POST of JSON lines, a JSON array or one
// object (logingest.IngestJSON), and the CORS preflight for the origins the
// ingester allows. It answers 200 with the Result when at least one record
// was stored, 400 with the Result when every record was rejected, and 503
// when the store failed (then nothing was stored).
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	in := s.deps.Ingest
	ingestCORS(in, w, r)
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, r, s.log, errorf(kindMethodNotAllowed, "use POST"))
		return
	}
	err := s.ingestKey(in, r)
	if ct := mediaType(r); err == nil && !logingest.JSONType(ct) {
		err = logingest.Unsupported("Content-Type %q is not supported here (send application/x-ndjson or application/json)", ct)
	}
	var body []byte
	if err == nil {
		body, err = readIngest(in, w, r)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := in.IngestJSON(r.Context(), body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, res)
}

// handleLoki handles POST /loki/api/v1/push (logingest.IngestLoki). Like
// Loki it answers 204 when every entry was stored, and 400 naming the
// rejected entries (the others are stored) when some were not.
func (s *Server) handleLoki(w http.ResponseWriter, r *http.Request) {
	in := s.deps.Ingest
	ct := mediaType(r)
	err := s.ingestKey(in, r)
	if err == nil {
		err = logingest.LokiType(ct)
	}
	var body []byte
	if err == nil {
		body, err = readIngest(in, w, r)
	}
	if err == nil {
		_, err = in.IngestLoki(r.Context(), ct, body)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleOTLP handles POST /v1/logs, OTLP/HTTP logs in protobuf or JSON
// (logingest.IngestOTLP). It answers with an ExportLogsServiceResponse in
// the request's encoding; a refused request gets its status with a
// google.rpc.Status (protobuf) or the /api/v1 error envelope (JSON).
func (s *Server) handleOTLP(w http.ResponseWriter, r *http.Request) {
	in := s.deps.Ingest
	ct := mediaType(r)
	asJSON := ct == "application/json"
	var out []byte
	err := error(logingest.Unsupported("Content-Type %q is not OTLP/HTTP (send application/x-protobuf or application/json)", ct))
	if asJSON || ct == "application/x-protobuf" {
		var body []byte
		if err = s.ingestKey(in, r); err == nil {
			body, err = readIngest(in, w, r)
		}
		if err == nil {
			out, err = in.IngestOTLP(r.Context(), asJSON, body)
		}
	}
	switch {
	case err != nil && (asJSON || ct != "application/x-protobuf"):
		writeError(w, r, s.log, err)
	case err != nil:
		code := kindStatus(errorKind(err))
		if code >= 500 {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(code)
		_, _ = w.Write(logingest.OTLPStatus(err))
	default:
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}
}

// handleSDK serves the browser SDK, so a dApp can load it from its
// blocktorch.
func (s *Server) handleSDK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(logingest.SDK())
}

// ingestKey checks the ingest key a request carries. A key is required
// when ingest keys are configured (--ingest-keys) or when a live API key
// has the ingest scope; either kind is accepted, in any form ingestKeys
// reads, so that keys made with blocktorch keys create work beside the
// configured ones.
func (s *Server) ingestKey(in *logingest.Ingester, r *http.Request) error {
	ctx := r.Context()
	live, err := s.acct.IngestKeysLive(ctx)
	if err != nil {
		s.log.Error("cannot count ingest keys", "err", err)
	}
	if !in.KeysRequired() && !live && err == nil {
		return nil
	}
	given := ingestKeys(r)
	for _, k := range given {
		ok, err := s.acct.IngestKey(ctx, k)
		if err != nil {
			return fmt.Errorf("cannot check an ingest key: %w", err)
		}
		if ok {
			return nil
		}
	}
	if !in.KeysRequired() {
		// No configured keys: CheckKey would let anything through.
		if len(given) == 0 {
			return &logingest.Error{Kind: logingest.KindUnauthorized, Msg: "missing ingest key: send an API key with the ingest scope as Authorization: Bearer KEY, in the X-Blocktorch-Key header, or as the basic-auth password"}
		}
		return &logingest.Error{Kind: logingest.KindUnauthorized, Msg: "unknown or revoked ingest key"}
	}
	return in.CheckKey(given)
}

// readIngest reads a request's body within the ingester's MaxBodyBytes,
// both as sent and after Content-Encoding (gzip, deflate) is undone, so a
// small compressed bomb is refused like a big body.
func readIngest(in *logingest.Ingester, w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := in.MaxBodyBytes()
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	readErr := func(err error, what string) error {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return in.TooLarge()
		}
		return errorf(kindBadRequest, "cannot read %s: %v", what, err)
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, readErr(err, "gzip body")
		}
		defer zr.Close()
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, readErr(err, "deflate (zlib) body")
		}
		defer zr.Close()
		body = zr
	default:
		return nil, logingest.Unsupported("Content-Encoding %q is not supported (use gzip, deflate or none)", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, readErr(err, "request body")
	}
	if int64(len(b)) > limit {
		return nil, in.TooLarge()
	}
	return b, nil
}

// ingestKeys collects the ingest keys a request carries, in each form a
// shipper sends one: the X-Blocktorch-Key header (the browser SDK; an OTLP
// exporter's OTEL_EXPORTER_OTLP_HEADERS), "Authorization: Bearer KEY" (OTLP
// headers, Grafana Alloy, Vector), HTTP basic auth with the key as the
// password (Promtail's and Alloy's basic_auth; the user name is not read),
// or the key query parameter (navigator.sendBeacon, which cannot set
// headers).
func ingestKeys(r *http.Request) []string {
	var given []string
	if k := r.Header.Get("X-Blocktorch-Key"); k != "" {
		given = append(given, k)
	}
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok {
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			given = append(given, strings.TrimSpace(cred))
		case strings.EqualFold(scheme, "Basic"):
			if _, pw, ok := r.BasicAuth(); ok {
				given = append(given, pw)
			}
		}
	}
	if k := r.URL.Query().Get("key"); k != "" {
		given = append(given, k)
	}
	return given
}

// ingestCORS answers browsers posting logs from an allowed origin.
func ingestCORS(in *logingest.Ingester, w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allow := in.AllowOrigins()
	if origin == "" || len(allow) == 0 {
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if !slices.Contains(allow, "*") && !slices.Contains(allow, origin) {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Blocktorch-Key")
		h.Set("Access-Control-Max-Age", "86400")
	}
}

// mediaType is the lower-case media type of a request, without parameters.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// ingestErrorKind is the API kind of a refused ingest request.
func ingestErrorKind(e *logingest.Error) string {
	switch e.Kind {
	case logingest.KindInvalid:
		return kindBadRequest
	case logingest.KindTooLarge:
		return kindTooLarge
	case logingest.KindUnsupported:
		return kindUnsupported
	case logingest.KindUnauthorized:
		return kindUnauthorized
	case logingest.KindUnavailable:
		return kindUnavailable
	}
	panic(fmt.Sprintf("BUG: logingest error kind %d has no API kind", e.Kind))
}
