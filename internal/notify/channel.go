package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Channel types.
const (
	TypeWebhook   = "webhook"
	TypeSlack     = "slack"
	TypeDiscord   = "discord"
	TypeTelegram  = "telegram"
	TypeEmail     = "email"
	TypePagerDuty = "pagerduty"
)

// Types lists the channel types.
var Types = []string{TypeWebhook, TypeSlack, TypeDiscord, TypeTelegram, TypeEmail, TypePagerDuty}

// Spec configures a channel. Which fields apply depends on Type; every
// base URL is configurable so that a proxy or a test server can stand in.
type Spec struct {
	Name string `json:"name" yaml:"name"`
	Type string `json:"type" yaml:"type"`
	// URL is the webhook URL (webhook, slack, discord), or the API base
	// URL (telegram: https://api.telegram.org, pagerduty:
	// https://events.pagerduty.com).
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// Secret signs webhook bodies (HMAC-SHA256).
	Secret string `json:"secret,omitempty" yaml:"secret,omitempty"`
	// Headers are added to webhook requests.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Token and ChatID address a Telegram chat.
	Token  string `json:"token,omitempty" yaml:"token,omitempty"`
	ChatID string `json:"chatId,omitempty" yaml:"chatId,omitempty"`
	// RoutingKey is the PagerDuty integration key.
	RoutingKey string `json:"routingKey,omitempty" yaml:"routingKey,omitempty"`
	// SMTP settings: Host is host:port (587 if no port).
	SMTPHost string   `json:"smtpHost,omitempty" yaml:"smtpHost,omitempty"`
	Username string   `json:"username,omitempty" yaml:"username,omitempty"`
	Password string   `json:"password,omitempty" yaml:"password,omitempty"`
	From     string   `json:"from,omitempty" yaml:"from,omitempty"`
	To       []string `json:"to,omitempty" yaml:"to,omitempty"`
	// CAFile is a PEM file of CAs trusted for STARTTLS, in addition to the
	// system's (for a private relay's certificate).
	CAFile string `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	// Plaintext allows SMTP without STARTTLS. Off by default: a relay
	// that does not offer STARTTLS is refused.
	Plaintext bool `json:"plaintext,omitempty" yaml:"plaintext,omitempty"`
	// Timeout bounds one attempt (default 10s), e.g. "5s".
	Timeout string `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Validate checks the fields the type needs.
func (s Spec) Validate() error {
	if s.Name == "" {
		return errors.New("channel has no name")
	}
	need := func(field, v string) error {
		if v == "" {
			return fmt.Errorf("channel %s (%s) needs %s", s.Name, s.Type, field)
		}
		return nil
	}
	checkURL := func(field, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("channel %s: %s must be an http(s) URL", s.Name, field)
		}
		return nil
	}
	if s.Timeout != "" {
		if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
			return fmt.Errorf("channel %s: timeout %q is not a positive duration like 10s", s.Name, s.Timeout)
		}
	}
	switch s.Type {
	case TypeWebhook, TypeSlack, TypeDiscord:
		if err := need("url", s.URL); err != nil {
			return err
		}
		return checkURL("url", s.URL)
	case TypeTelegram:
		if err := errors.Join(need("token", s.Token), need("chatId", s.ChatID)); err != nil {
			return err
		}
	case TypePagerDuty:
		if err := need("routingKey", s.RoutingKey); err != nil {
			return err
		}
	case TypeEmail:
		if err := errors.Join(need("smtpHost", s.SMTPHost), need("from", s.From)); err != nil {
			return err
		}
		if len(s.To) == 0 {
			return fmt.Errorf("channel %s (email) needs at least one address in to", s.Name)
		}
		for _, a := range append([]string{s.From}, s.To...) {
			if strings.ContainsAny(a, "\r\n<>") {
				return fmt.Errorf("channel %s: address %q is not a plain address", s.Name, a)
			}
		}
		return nil
	default:
		return fmt.Errorf("channel %s: unknown type %q (want one of %s)", s.Name, s.Type, strings.Join(Types, ", "))
	}
	if s.URL != "" {
		return checkURL("url", s.URL)
	}
	return nil
}

// Redacted returns the spec with its secrets replaced by "***", for
// showing it: URLs keep only their scheme and host.
func (s Spec) Redacted() Spec {
	r := s
	if r.URL != "" {
		r.URL = redactURL(r.URL)
	}
	for _, p := range []*string{&r.Secret, &r.Token, &r.RoutingKey, &r.Password} {
		if *p != "" {
			*p = "***"
		}
	}
	if len(s.Headers) > 0 {
		r.Headers = map[string]string{}
		for k := range s.Headers {
			r.Headers[k] = "***"
		}
	}
	return r
}

// secrets are the strings of the spec that must never be shown.
func (s Spec) secrets() []string {
	var out []string
	add := func(v string) {
		if len(v) >= 4 {
			out = append(out, v)
		}
	}
	add(s.Secret)
	add(s.Token)
	add(s.RoutingKey)
	add(s.Password)
	for _, v := range s.Headers {
		add(v)
	}
	if u, err := url.Parse(s.URL); err == nil {
		add(u.RawQuery)
		if u.Path != "" && u.Path != "/" {
			add(u.Path)
			add(strings.TrimPrefix(u.Path, "/"))
		}
		if u.User != nil {
			add(u.User.String())
		}
	}
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return slices.Compact(out)
}

func (s Spec) timeout() time.Duration {
	if d, err := time.ParseDuration(s.Timeout); err == nil && d > 0 {
		return d
	}
	return 10 * time.Second
}

// Channel sends messages somewhere. Implementations are safe for concurrent
// use.
type Channel interface {
	// Send delivers one message. Errors are *SendError when the channel
	// knows whether a retry may help, and never contain secrets.
	Send(ctx context.Context, m Message) error
}

// New builds the channel a spec describes, sending to public addresses
// only (the zero Destinations). client is used for HTTP channels; nil means
// a client with the spec's timeout that enforces that policy.
func New(s Spec, client *http.Client) (Channel, error) {
	return build(s, client, Destinations{})
}

// build builds a channel whose connections dest checks; a given client is
// used as is (its owner chose where it may connect).
func build(s Spec, client *http.Client, dest Destinations) (Channel, error) {
	return buildClocked(s, client, dest, time.Now)
}

// buildClocked is build with the clock that a Retry-After given as an HTTP
// date is measured against (the outbox's).
func buildClocked(s Spec, client *http.Client, dest Destinations, now func() time.Time) (Channel, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = dest.client(s.timeout())
	}
	h := httpSender{client: client, scrub: newScrubber(s.secrets()), now: now}
	switch s.Type {
	case TypeWebhook:
		return &webhook{spec: s, h: h}, nil
	case TypeSlack:
		return &slack{spec: s, h: h}, nil
	case TypeDiscord:
		return &discord{spec: s, h: h}, nil
	case TypeTelegram:
		return &telegram{spec: s, h: h}, nil
	case TypePagerDuty:
		return &pagerDuty{spec: s, h: h}, nil
	case TypeEmail:
		return newEmail(s, dest)
	}
	return nil, fmt.Errorf("BUG: channel type %q validated but not built", s.Type)
}

// SendError is a failed delivery attempt.
type SendError struct {
	// Retryable is false when the receiver refused the message for good
	// (a 4xx other than 408 and 429): retrying cannot help.
	Retryable bool
	// RetryAfter is the wait the receiver asked for, or 0.
	RetryAfter time.Duration
	Err        error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// scrubber removes secrets from error text.
type scrubber struct{ secrets []string }

func newScrubber(secrets []string) scrubber { return scrubber{secrets: secrets} }

func (s scrubber) text(msg string) string {
	for _, sec := range s.secrets {
		msg = strings.ReplaceAll(msg, sec, "***")
	}
	return msg
}

// err returns err with every secret replaced; the SendError fields are
// kept, the wrapped chain is flattened to text.
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		// net/http's errors quote the whole URL, token and all.
		msg = strings.ReplaceAll(msg, ue.URL, redactURL(ue.URL))
	}
	msg = s.text(msg)
	var se *SendError
	if errors.As(err, &se) {
		return &SendError{Retryable: se.Retryable, RetryAfter: se.RetryAfter, Err: errors.New(msg)}
	}
	return errors.New(msg)
}

// redactURL keeps the scheme and host of a URL: paths and queries of
// webhook URLs are their secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(URL)"
	}
	return u.Scheme + "://" + u.Host + "/***"
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 86400 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
