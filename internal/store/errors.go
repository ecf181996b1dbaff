package store

import (
	"errors"
)

// Domain errors. Backends translate driver errors into these, wrapped with
// what was being done; callers test with errors.Is.
var (
	// ErrNotFound is returned when the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write would break an invariant, such as
	// writing a block number that is already stored, or a block whose parent
	// is not the stored head.
	ErrConflict = errors.New("conflict")
	// ErrInvalid is returned for arguments a backend refuses (a negative
	// limit, an unknown status filter, …).
	ErrInvalid = errors.New("invalid argument")
	// ErrUnavailable is returned when the database cannot be reached now
	// (it is down, restarting, or the network to it is cut): the request
	// may succeed if tried again, and the backend reconnects by itself.
	ErrUnavailable = errors.New("the database cannot be reached")
)

// Sentinel returns a sentinel error that prints msg and is also kind (one
// of the errors above) for errors.Is: a capability's own "not found" or
// "bad request" that the web layer answers like the store's.
func Sentinel(msg string, kind error) error { return &sentinel{msg, kind} }

type sentinel struct {
	msg  string
	kind error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.kind }
