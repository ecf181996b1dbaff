package notify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestDestinationsCheck(t *testing.T) {
	strict := Destinations{}
	tenNet, err := ParseDestinations(false, "10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr   string
		policy Destinations
		kind   string // "" allowed
	}{
		{"169.254.169.254", strict, "link-local"},
		{"127.0.0.1", strict, "loopback"},
		{"127.9.9.9", strict, "loopback"},
		{"::1", strict, "loopback"},
		{"::ffff:127.0.0.1", strict, "loopback"},
		{"0.0.0.0", strict, "unspecified"},
		{"::", strict, "unspecified"},
		{"10.1.2.3", strict, "private"},
		{"172.16.0.1", strict, "private"},
		{"192.168.1.1", strict, "private"},
		{"fd00::1", strict, "private"},
		{"fe80::1", strict, "link-local"},
		{"224.0.0.1", strict, "multicast"},
		{"ff02::1", strict, "multicast"},
		{"100.64.0.1", strict, "private (carrier-grade NAT)"},
		{"255.255.255.255", strict, "broadcast"},
		{"64:ff9b::7f00:1", strict, "NAT64"},
		{"8.8.8.8", strict, ""},
		{"2606:4700:4700::1111", strict, ""},
		{"10.1.2.3", tenNet, ""},
		{"127.0.0.1", tenNet, ""},
		{"127.0.0.2", tenNet, "loopback"},
		{"169.254.169.254", tenNet, "link-local"},
		{"169.254.169.254", Destinations{AllowPrivate: true}, ""},
	} {
		err := tt.policy.Check(netip.MustParseAddr(tt.addr))
		var de *DestinationError
		switch {
		case tt.kind == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.addr, err)
		case tt.kind != "" && (err == nil || !isDestinationError(err)):
			t.Errorf("%s: allowed, want refused as %s", tt.addr, tt.kind)
		case tt.kind != "":
			if de, _ = err.(*DestinationError); de.Kind != tt.kind || !strings.Contains(err.Error(), "--notify-allow") {
				t.Errorf("%s: %v, want kind %s and what to set", tt.addr, err, tt.kind)
			}
		}
	}
	if _, err := ParseDestinations(false, "10.0.0.0/33"); err == nil {
		t.Error("a bad network was accepted")
	}
}

// TestOutboxRefusesPrivateDestinations: by default a channel pointing at
// the cloud metadata address, at a receiver on 127.0.0.1 or at the
// server's own API by name (resolved by DNS to loopback) is never
// contacted: its delivery goes to the dead letters at once with the
// reason, and applying such a channel is refused naming it.
func TestOutboxRefusesPrivateDestinations(t *testing.T) {
	var hits atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rcv.Close()
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())
	db := openStore(t, filepath.Join(t.TempDir(), "bt.db"))
	defer db.Close()
	ob := NewOutbox(db, Options{}) // the default policy
	specs := []Spec{
		{Name: "metadata", Type: TypeWebhook, URL: "http://169.254.169.254/latest/meta-data/"},
		{Name: "local", Type: TypeWebhook, URL: rcv.URL},
		{Name: "self", Type: TypeSlack, URL: "http://localhost:" + port + "/api/v1/monitors/apply"},
		{Name: "relay", Type: TypeEmail, SMTPHost: "127.0.0.1:" + port, From: "a@example.com", To: []string{"b@example.com"}},
	}
	ctx := context.Background()
	for _, s := range specs {
		if err := ob.CheckChannel(ctx, s); err == nil || !strings.Contains(err.Error(), "channel "+s.Name+":") {
			t.Errorf("CheckChannel(%s) = %v, want a refusal naming the channel", s.Name, err)
		}
	}
	if err := ob.SetChannels(specs); err != nil {
		t.Fatal(err)
	}
	for i, s := range specs {
		ob.Enqueue(ctx, msg(i), []string{s.Name})
	}
	if n, err := ob.Flush(ctx); n != len(specs) || err != nil {
		t.Fatalf("flush: %d, %v", n, err)
	}
	dead, _ := ob.DeadLetters(ctx, 10)
	if len(dead) != len(specs) {
		t.Fatalf("%d dead letters, want %d: %+v", len(dead), len(specs), dead)
	}
	want := map[string]string{"metadata": "169.254.169.254 is a link-local", "local": "127.0.0.1 is a loopback",
		"self": "is a loopback", "relay": "127.0.0.1 is a loopback"}
	for _, d := range dead {
		if !strings.Contains(d.LastError, want[d.Channel]) || d.Attempts != 1 {
			t.Errorf("dead letter of %s after %d attempts: %q, want %q at once", d.Channel, d.Attempts, d.LastError, want[d.Channel])
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the local receiver got %d requests", n)
	}
}

// TestRedirectToPrivateRefused: a receiver the operator allowed redirects
// to an address that is not allowed; the redirect is not followed.
func TestRedirectToPrivateRefused(t *testing.T) {
	var inner atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1) }))
	target.Listener = ln
	target.Start()
	defer target.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	dest, err := ParseDestinations(false, "127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := build(Spec{Name: "hook", Type: TypeWebhook, URL: front.URL}, nil, dest)
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Send(context.Background(), msg(1))
	var se *SendError
	if err == nil || !strings.Contains(err.Error(), "127.0.0.2 is a loopback") || !asSendError(err, &se) || se.Retryable {
		t.Fatalf("send through a redirect to 127.0.0.2: %v, want a final refusal", err)
	}
	if inner.Load() != 0 {
		t.Fatal("the redirect target was contacted")
	}
}

func asSendError(err error, se **SendError) bool {
	e, ok := err.(*SendError)
	*se = e
	return ok
}
