package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a real HTTP server on 127.0.0.1 that keeps every request.
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	answer func(w http.ResponseWriter, r *http.Request, body []byte)
}

type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *recorder {
	t.Helper()
	rec := &recorder{answer: answer}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{r.Method, r.URL.Path, r.Header.Clone(), body})
		answer := rec.answer
		rec.mu.Unlock()
		if answer != nil {
			answer(w, r, body)
		}
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// hostile is a message whose text an attacker chose: markup, mentions,
// header breaks.
func hostile() Message {
	return Message{
		Key: "m1/k/firing/1", Status: StatusFiring, MonitorID: "vault-paused", Monitor: "Vault <paused> & @everyone",
		Severity: "critical", AlertKey: "vault-paused/contract=0xabc", Summary: "Paused by <!channel> <b>x</b>\r\nBcc: evil@example.com",
		Labels: map[string]string{"contract": "LendingVault"}, Count: 2, Block: 42,
		Tx:       "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
		StartsAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Links: []Link{{Text: "Search", URL: "http://127.0.0.1:8080/search?q=event%3APaused"}, {Text: "Debug tx", URL: "http://127.0.0.1:8080/tx/0x5c50"}},
	}
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, b)
	}
	return v
}

func send(t *testing.T, s Spec, m Message) error {
	t.Helper()
	ch, err := build(s, nil, Destinations{Allow: Loopback}) // the receivers run on 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ch.Send(ctx, m)
}

func TestChannelPayloads(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request, body []byte) { w.Write([]byte(`{"ok":true}`)) }
	cases := []struct {
		name  string
		spec  func(url string) Spec
		check func(t *testing.T, r recorded)
	}{
		{
			name: "slack Block Kit",
			spec: func(u string) Spec { return Spec{Name: "s", Type: TypeSlack, URL: u + "/services/T000/B000/XXXX"} },
			check: func(t *testing.T, r recorded) {
				if r.Path != "/services/T000/B000/XXXX" {
					t.Errorf("path %s", r.Path)
				}
				v := decodeJSON(t, r.Body)
				if txt, _ := v["text"].(string); txt == "" || strings.Contains(txt, "<!channel>") {
					t.Errorf("fallback text %q: missing or unescaped", txt)
				}
				blocks, _ := v["blocks"].([]any)
				if len(blocks) != 4 {
					t.Fatalf("want header, section, fields, actions blocks; got %d: %s", len(blocks), r.Body)
				}
				types := []string{"header", "section", "section", "actions"}
				for i, b := range blocks {
					bm := b.(map[string]any)
					if bm["type"] != types[i] {
						t.Errorf("block %d type %v, want %s", i, bm["type"], types[i])
					}
				}
				head := blocks[0].(map[string]any)["text"].(map[string]any)
				if head["type"] != "plain_text" || len([]rune(head["text"].(string))) > 150 {
					t.Errorf("header text %v", head)
				}
				sec := blocks[1].(map[string]any)["text"].(map[string]any)
				if sec["type"] != "mrkdwn" || strings.ContainsAny(sec["text"].(string), "<>") {
					t.Errorf("section text not escaped mrkdwn: %v", sec)
				}
				btn := blocks[3].(map[string]any)["elements"].([]any)[0].(map[string]any)
				if btn["type"] != "button" || btn["url"] != "http://127.0.0.1:8080/search?q=event%3APaused" {
					t.Errorf("link button %v", btn)
				}
			},
		},
		{
			name: "discord embed",
			spec: func(u string) Spec { return Spec{Name: "d", Type: TypeDiscord, URL: u + "/api/webhooks/123/tok"} },
			check: func(t *testing.T, r recorded) {
				v := decodeJSON(t, r.Body)
				am, _ := v["allowed_mentions"].(map[string]any)
				if p, ok := am["parse"].([]any); !ok || len(p) != 0 {
					t.Errorf("allowed_mentions must disable pings: %v", v["allowed_mentions"])
				}
				embeds, _ := v["embeds"].([]any)
				if len(embeds) != 1 {
					t.Fatalf("embeds: %s", r.Body)
				}
				e := embeds[0].(map[string]any)
				if e["title"] != "FIRING [critical] Vault <paused> & @everyone" || e["color"].(float64) != 0xd93025 {
					t.Errorf("embed title/color %v %v", e["title"], e["color"])
				}
				if _, err := time.Parse(time.RFC3339, e["timestamp"].(string)); err != nil {
					t.Errorf("timestamp %v: %v", e["timestamp"], err)
				}
				fields := e["fields"].([]any)
				if len(fields) != 4 || fields[0].(map[string]any)["name"] != "Matches" {
					t.Errorf("fields %v", fields)
				}
			},
		},
		{
			name: "telegram sendMessage",
			spec: func(u string) Spec {
				return Spec{Name: "t", Type: TypeTelegram, URL: u, Token: "123456:ABC-secret", ChatID: "-100200"}
			},
			check: func(t *testing.T, r recorded) {
				if r.Path != "/bot123456:ABC-secret/sendMessage" {
					t.Errorf("path %s", r.Path)
				}
				v := decodeJSON(t, r.Body)
				if v["chat_id"] != "-100200" || v["parse_mode"] != "HTML" {
					t.Errorf("chat_id/parse_mode %v %v", v["chat_id"], v["parse_mode"])
				}
				text := v["text"].(string)
				if strings.Contains(text, "<!channel>") || strings.Contains(text, "<b>x</b>") || !strings.Contains(text, "&lt;b&gt;x&lt;/b&gt;") {
					t.Errorf("text not HTML-escaped: %s", text)
				}
				if !strings.HasPrefix(text, "<b>FIRING [critical] Vault &lt;paused&gt; &amp; @everyone</b>") {
					t.Errorf("headline %q", text)
				}
			},
		},
		{
			name: "pagerduty trigger",
			spec: func(u string) Spec {
				return Spec{Name: "p", Type: TypePagerDuty, URL: u, RoutingKey: "R0UTINGKEY0123456789012345678901"}
			},
			check: func(t *testing.T, r recorded) {
				if r.Path != "/v2/enqueue" {
					t.Errorf("path %s", r.Path)
				}
				v := decodeJSON(t, r.Body)
				if v["routing_key"] != "R0UTINGKEY0123456789012345678901" || v["event_action"] != "trigger" || v["dedup_key"] != "vault-paused/contract=0xabc" {
					t.Errorf("event %s", r.Body)
				}
				p := v["payload"].(map[string]any)
				for _, k := range []string{"summary", "source", "severity"} {
					if s, _ := p[k].(string); s == "" {
						t.Errorf("payload.%s missing: %s", k, r.Body)
					}
				}
				if p["severity"] != "critical" {
					t.Errorf("severity %v", p["severity"])
				}
				links := v["links"].([]any)
				if links[0].(map[string]any)["href"] == "" {
					t.Errorf("links %v", links)
				}
			},
		},
		{
			name: "webhook signed",
			spec: func(u string) Spec {
				return Spec{Name: "w", Type: TypeWebhook, URL: u + "/hook?token=abcdef", Secret: "s3cret-key", Headers: map[string]string{"X-Team": "core"}}
			},
			check: func(t *testing.T, r recorded) {
				var m Message
				if err := json.Unmarshal(r.Body, &m); err != nil || m.Key != "m1/k/firing/1" {
					t.Fatalf("body %s: %v", r.Body, err)
				}
				if r.Header.Get("X-Team") != "core" || r.Header.Get(HeaderIdempotency) != m.Key {
					t.Errorf("headers %v", r.Header)
				}
				if !Verify("s3cret-key", r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), r.Body, time.Now(), time.Minute) {
					t.Errorf("signature %q does not verify", r.Header.Get(HeaderSignature))
				}
				if Verify("other", r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), r.Body, time.Now(), time.Minute) {
					t.Error("signature verifies with the wrong secret")
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder(t, ok)
			if err := send(t, c.spec(rec.srv.URL), hostile()); err != nil {
				t.Fatal(err)
			}
			reqs := rec.all()
			if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Header.Get("Content-Type") != "application/json" {
				t.Fatalf("requests: %+v", reqs)
			}
			c.check(t, reqs[0])
		})
	}
}

func TestPagerDutyResolveAndRetract(t *testing.T) {
	for _, status := range []string{StatusResolved, StatusRetracted} {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(http.StatusAccepted) })
		m := hostile()
		m.Status = status
		if err := send(t, Spec{Name: "p", Type: TypePagerDuty, URL: rec.srv.URL, RoutingKey: "key0123456789"}, m); err != nil {
			t.Fatal(err)
		}
		v := decodeJSON(t, rec.all()[0].Body)
		if v["event_action"] != "resolve" || v["dedup_key"] != m.AlertKey || v["payload"] != nil {
			t.Errorf("%s: %v", status, v)
		}
	}
}

func TestErrorsClassifiedAndSecretsScrubbed(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		header     string
		body       string
		retryable  bool
		retryAfter time.Duration
		only       string // the channel type whose API answers this way
	}{
		{"500", 500, "", "oops", true, 0, ""},
		{"429 header", 429, "7", "", true, 7 * time.Second, ""},
		{"429 discord body", 429, "", `{"retry_after": 1.5}`, true, 1500 * time.Millisecond, TypeDiscord},
		{"429 telegram body", 429, "", `{"ok":false,"error_code":429,"parameters":{"retry_after":3}}`, true, 3 * time.Second, TypeTelegram},
		{"400", 400, "", "invalid_payload", false, 0, ""},
		{"404 echoing the token", 404, "", "no webhook /bot123456:ABC-secret/sendMessage", false, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			})
			for _, typ := range []string{TypeDiscord, TypeTelegram} {
				if c.only != "" && c.only != typ {
					continue
				}
				err := send(t, Spec{Name: "x", Type: typ, URL: rec.srv.URL + "/api/webhooks/1/tok-secret", Token: "123456:ABC-secret", ChatID: "1"}, hostile())
				var se *SendError
				if !errors.As(err, &se) {
					t.Fatalf("%s: %v is not a SendError", typ, err)
				}
				if se.Retryable != c.retryable || se.RetryAfter != c.retryAfter {
					t.Errorf("%s: retryable %v after %v, want %v after %v", typ, se.Retryable, se.RetryAfter, c.retryable, c.retryAfter)
				}
				if strings.Contains(err.Error(), "ABC-secret") || strings.Contains(err.Error(), "tok-secret") {
					t.Errorf("%s: error leaks a secret: %v", typ, err)
				}
			}
		})
	}
	// Connection refused: the URL with its token is in net/http's error.
	rec := newRecorder(t, nil)
	url := rec.srv.URL
	rec.srv.Close()
	err := send(t, Spec{Name: "t", Type: TypeTelegram, URL: url, Token: "123456:ABC-secret", ChatID: "1"}, hostile())
	var se *SendError
	if !errors.As(err, &se) || !se.Retryable || strings.Contains(err.Error(), "ABC-secret") {
		t.Errorf("connection refused: %v (retryable %v)", err, se != nil && se.Retryable)
	}
}

func TestSpecValidateAndRedact(t *testing.T) {
	bad := []Spec{
		{Name: "a", Type: "sms"},
		{Name: "a", Type: TypeWebhook},
		{Name: "a", Type: TypeWebhook, URL: "ftp://x"},
		{Name: "a", Type: TypeTelegram, Token: "t"},
		{Name: "a", Type: TypeEmail, SMTPHost: "h", From: "a@b"},
		{Name: "a", Type: TypeEmail, SMTPHost: "h", From: "a@b", To: []string{"x@y\r\nBcc: z"}},
		{Name: "a", Type: TypeSlack, URL: "https://hooks.slack.com/x", Timeout: "soon"},
		{Type: TypeSlack, URL: "https://hooks.slack.com/x"},
	}
	for _, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v validated", s)
		}
	}
	s := Spec{Name: "s", Type: TypeSlack, URL: "https://hooks.slack.com/services/T/B/secret", Secret: "k", Headers: map[string]string{"Authorization": "Bearer x"}}
	r := s.Redacted()
	b, _ := json.Marshal(r)
	for _, leak := range []string{"services/T/B/secret", "Bearer x", `"k"`} {
		if strings.Contains(string(b), leak) {
			t.Errorf("redacted spec leaks %q: %s", leak, b)
		}
	}
}
