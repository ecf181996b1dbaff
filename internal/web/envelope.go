package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ethereum/go-ethereum"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/store"
)

// This file holds the one /api/v1 envelope and the one error mapper: every
// API handler answers through writeData, writeCreated and writeError.

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// envelope is the answer of every /api/v1 endpoint.
type envelope struct {
	Status    string `json:"status"` // "success" or "error"
	Data      any    `json:"data,omitempty"`
	ErrorKind string `json:"errorKind,omitempty"`
	Error     string `json:"error,omitempty"`
}

// writeData answers 200 with v in the success envelope.
func writeData(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusOK, envelope{Status: "success", Data: v})
}

// writeCreated answers 201 with v in the success envelope.
func writeCreated(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: v})
}

// Error kinds of the API, each with one HTTP status (kindStatus).
const (
	kindBadRequest       = "bad_request"
	kindBadQuery         = "bad_query"
	kindNotFound         = "not_found"
	kindMethodNotAllowed = "method_not_allowed"
	kindConflict         = "conflict"
	kindGone             = "gone"
	kindTooLarge         = "too_large"
	kindUnsupported      = "unsupported_media_type"
	kindForbidden        = "forbidden"    // no operator login
	kindUnauthorized     = "unauthorized" // no or a wrong ingest key
	kindRefused          = "refused"      // cross-site write, foreign Host
	kindDenied           = "denied"       // logged in, without the permission
	kindUnavailable      = "unavailable"
	kindInternal         = "internal"
)

// errorKinds lists every kind, for the test that checks each maps to one
// status.
var errorKinds = []string{kindBadRequest, kindBadQuery, kindNotFound, kindMethodNotAllowed, kindConflict, kindGone,
	kindTooLarge, kindUnsupported, kindForbidden, kindUnauthorized, kindRefused, kindDenied, kindUnavailable, kindInternal}

// kindStatus is the HTTP status of an error kind.
func kindStatus(kind string) int {
	switch kind {
	case kindBadRequest, kindBadQuery:
		return http.StatusBadRequest
	case kindNotFound:
		return http.StatusNotFound
	case kindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case kindConflict:
		return http.StatusConflict
	case kindGone:
		return http.StatusGone
	case kindTooLarge:
		return http.StatusRequestEntityTooLarge
	case kindUnsupported:
		return http.StatusUnsupportedMediaType
	case kindForbidden, kindUnauthorized:
		return http.StatusUnauthorized
	case kindRefused, kindDenied:
		return http.StatusForbidden
	case kindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// apiError is an error the web layer itself decides the kind of.
type apiError struct {
	kind string
	msg  string
	data any // sent in the error envelope's data, when set
}

func (e *apiError) Error() string { return e.msg }

func errorf(kind, format string, args ...any) error {
	return &apiError{kind: kind, msg: sprintf(format, args...)}
}

// errorKind maps any error to its API kind: the one place where domain
// errors become HTTP.
func errorKind(err error) string {
	var ae *apiError
	var ie *logingest.Error
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.kind
	case errors.As(err, &ie):
		return ingestErrorKind(ie)
	case errors.As(err, &tooLarge):
		return kindTooLarge
	case errors.Is(err, auth.ErrRefused):
		return kindGone
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ethereum.NotFound):
		return kindNotFound
	case errors.Is(err, store.ErrInvalid):
		return kindBadRequest
	case errors.Is(err, store.ErrConflict):
		return kindConflict
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, store.ErrUnavailable):
		return kindUnavailable
	}
	return kindInternal
}

// writeError answers err in the error envelope. The text of an internal
// error stays in the log: the client reads only that there was one.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	kind := errorKind(err)
	code := kindStatus(kind)
	msg := err.Error()
	if code >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		switch {
		case errors.Is(err, store.ErrUnavailable):
			// Said plainly, so that a client knows to retry; the
			// driver's details (addresses) stay in the log.
			msg = "the database cannot be reached now; the server reconnects by itself: try again shortly"
		case !isAPIError(err):
			// Internal details stay in the log.
			msg = "internal error; see the server log"
		}
	}
	env := envelope{Status: "error", ErrorKind: kind, Error: msg}
	var ae *apiError
	var ie *logingest.Error
	switch {
	case errors.As(err, &ae):
		env.Data = ae.data
	case errors.As(err, &ie) && ie.Result != nil:
		env.Data = ie.Result
	}
	writeJSON(w, code, env)
}

// isAPIError reports whether err carries a message written for clients.
func isAPIError(err error) bool {
	var ae *apiError
	var ie *logingest.Error
	return errors.As(err, &ae) || errors.As(err, &ie)
}
