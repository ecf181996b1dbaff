package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// tokenBytes is the entropy of a share token: 128 bits, printed as 22
// base64url characters, so links stay short.
const tokenBytes = 16

// ErrRefused is returned for a share token that is unknown, revoked or
// expired. The three are not told apart to the holder of the link.
var ErrRefused = errors.New("this link is not valid: it was revoked, has expired, or never existed")

// Shares makes, opens and revokes share links.
type Shares struct {
	store store.ShareStore
	now   func() time.Time
}

// NewShares returns share links kept in st; now is the clock (nil for
// time.Now).
func NewShares(st store.ShareStore, now func() time.Time) *Shares {
	if now == nil {
		now = time.Now
	}
	return &Shares{store: st, now: now}
}

// NewShare is what a share link opens.
type NewShare struct {
	Kind   string // store.ShareDashboard, ShareSearch or ShareSnapshot
	Target string
	Title  string
	// From and To freeze the shown time range when set.
	From, To string
	// TTL is how long the link works; 0 forever.
	TTL time.Duration
	// Snapshot is the frozen content of a snapshot share.
	Snapshot json.RawMessage
}

// HashToken is how a token is stored and looked up.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("cannot read random bytes: %w", err)
	}
	return b, nil
}

// Create makes a share link and returns its token, which is shown once and
// never stored.
func (s *Shares) Create(ctx context.Context, n NewShare) (string, store.Share, error) {
	switch n.Kind {
	case store.ShareDashboard, store.ShareSearch, store.ShareSnapshot:
	default:
		return "", store.Share{}, fmt.Errorf("cannot create share: %w: kind must be dashboard, search or snapshot, got %q", store.ErrInvalid, n.Kind)
	}
	if n.TTL < 0 {
		return "", store.Share{}, fmt.Errorf("cannot create share: %w: negative expiry", store.ErrInvalid)
	}
	tok, err := random(tokenBytes)
	if err != nil {
		return "", store.Share{}, err
	}
	id, err := random(8)
	if err != nil {
		return "", store.Share{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(tok)
	now := s.now().UTC()
	sh := store.Share{
		ID: hex.EncodeToString(id), TokenHash: HashToken(token), Kind: n.Kind, Target: n.Target, Title: n.Title,
		From: n.From, To: n.To, Created: now, Snapshot: n.Snapshot,
	}
	if n.TTL > 0 {
		sh.Expires = now.Add(n.TTL)
	}
	if err := s.store.CreateShare(ctx, sh); err != nil {
		return "", store.Share{}, err
	}
	if err := s.log(ctx, sh.ID, "create", n.Kind+" "+n.Target); err != nil {
		return "", store.Share{}, err
	}
	return token, sh, nil
}

// Open returns the share a token opens, or ErrRefused. Every use and
// refusal is logged, with detail saying what was asked for.
func (s *Shares) Open(ctx context.Context, token, detail string) (store.Share, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return store.Share{}, ErrRefused
	}
	sh, err := s.store.ShareByTokenHash(ctx, HashToken(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Share{}, ErrRefused
	case err != nil:
		return store.Share{}, err
	}
	now := s.now()
	if !sh.Revoked.IsZero() || (!sh.Expires.IsZero() && !now.Before(sh.Expires)) {
		if err := s.log(ctx, sh.ID, "refuse", detail); err != nil {
			return store.Share{}, err
		}
		return store.Share{}, ErrRefused
	}
	// An unaudited use is refused: the log is the record of who saw what.
	if err := s.log(ctx, sh.ID, "use", detail); err != nil {
		return store.Share{}, err
	}
	return sh, nil
}

// Revoke stops a link from working.
func (s *Shares) Revoke(ctx context.Context, id string) error {
	if err := s.store.RevokeShare(ctx, id, s.now().UTC()); err != nil {
		return err
	}
	return s.log(ctx, id, "revoke", "")
}

// List returns every share link, newest first; Active tells which still
// work.
func (s *Shares) List(ctx context.Context) ([]store.Share, error) {
	return s.store.Shares(ctx)
}

// Active reports whether a share still works at now.
func Active(sh store.Share, now time.Time) bool {
	return sh.Revoked.IsZero() && (sh.Expires.IsZero() || now.Before(sh.Expires))
}

// Events returns the newest audit events.
func (s *Shares) Events(ctx context.Context, limit int) ([]store.ShareEvent, error) {
	return s.store.ShareEvents(ctx, limit)
}

// Now is the clock shares are judged by.
func (s *Shares) Now() time.Time { return s.now() }

// log records an audit event. It outlives the request's cancellation, so a
// client hanging up cannot erase its use from the log.
func (s *Shares) log(ctx context.Context, id, action, detail string) error {
	if len(detail) > 200 {
		detail = detail[:200]
	}
	return s.store.LogShareEvent(context.WithoutCancel(ctx), store.ShareEvent{Time: s.now().UTC(), ShareID: id, Action: action, Detail: detail})
}
