package logingest

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
)

func TestParseSyslog(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 3000, time.FixedZone("", -7*3600))
	tests := []struct {
		in   string
		want syslogMsg
		err  string
	}{
		// RFC 5424 section 6.5, example 1 and 3.
		{`<34>1 2026-02-01T10:00:00.000003-07:00 mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8`,
			syslogMsg{pri: 34, time: t0, host: "mymachine.example.com", app: "su", msgid: "ID47", msg: "BOM'su root' failed for lonvick on /dev/pts/8"}, ""},
		{`<165>1 2026-02-01T10:00:00.000003-07:00 mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event`,
			syslogMsg{pri: 165, time: t0, host: "mymachine.example.com", app: "evntslog", msgid: "ID47",
				sd:  []sdElement{{"exampleSDID@32473", [][2]string{{"iut", "3"}, {"eventSource", "Application"}, {"eventID", "1011"}}}, {"examplePriority@32473", [][2]string{{"class", "high"}}}},
				msg: "An application event"}, ""},
		{`<13>1 - - - - - -`, syslogMsg{pri: 13}, ""},
		{"<13>1 - - - - - [a b=\"q\\\"\\]\\\\x\"] \xef\xbb\xbfmsg", syslogMsg{pri: 13, sd: []sdElement{{"a", [][2]string{{"b", `q"]\x`}}}}, msg: "msg"}, ""},
		{`<13>Feb  1 10:00:00 host tag: old style`, syslogMsg{}, "RFC 3164"},
		{`<192>1 - - - - - -`, syslogMsg{}, "not 0-191"},
		{`<013>1 - - - - - -`, syslogMsg{}, "not 0-191"},
		{`13>1 - - - - - -`, syslogMsg{}, "no <PRI>"},
		{`<13>1 yesterday - - - - -`, syslogMsg{}, "not RFC 3339"},
		{`<13>1 - - - - -`, syslogMsg{}, "missing MSGID"},
		{`<13>1 - - - - - x`, syslogMsg{}, "neither - nor ["},
		{`<13>1 - - - - - [a b="c"`, syslogMsg{}, "without ]"},
		{`<13>1 - - - - - [a b="c]`, syslogMsg{}, "unterminated"},
		{`<13>1 - - - - - [a b=c]`, syslogMsg{}, `not NAME="VALUE"`},
		{`<13>1 - - - - - -msg`, syslogMsg{}, "no space before MSG"},
	}
	for _, tt := range tests {
		got, err := parseSyslog([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseSyslog(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseSyslog(%q)\n = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
}

// startSyslog serves syslog on real 127.0.0.1 sockets and returns their
// addresses and a stop function that waits until everything is stored.
func startSyslog(t *testing.T, in *Ingester) (tcp, udp string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.ServeSyslog(ctx, ln, pc) }()
	return ln.Addr().String(), pc.LocalAddr().String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeSyslog: %v", err)
		}
	}
}

// waitRecords waits until w holds n records.
func waitRecords(t *testing.T, w *memWriter, n int) []record.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if recs := w.records(); len(recs) >= n {
			return recs
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("stored %d records, want %d", len(w.records()), n)
	return nil
}

func TestSyslogTCPAndUDP(t *testing.T) {
	in, w := newTestIngester(Options{MaxLineBytes: 1024})
	tcpAddr, udpAddr, stop := startSyslog(t, in)

	msg := func(pri int, app, text string) string {
		return fmt.Sprintf("<%d>1 2026-02-01T10:00:00Z node-1 %s 4242 - [meta@32473 tx=%q] %s", pri, app, txA, text)
	}
	c, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	octet := msg(3*8+4, "geth", "disk 91% full on /data")
	newline := msg(4*8+3, "sshd", "failed password for admin from "+addrA)
	frames := fmt.Sprintf("%d %s", len(octet), octet) + newline + "\n" + "not syslog\n" + strings.Repeat("x", 2000) + "\n" + "<14>1 - - - - - - after the long line\r\n"
	if _, err := c.Write([]byte(frames)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	u, err := net.Dial("udp", udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte(msg(16*8+2, "blocktorch", "node restarted") + "\n")); err != nil {
		t.Fatal(err)
	}
	u.Close()

	recs := waitRecords(t, w, 4)
	stop()
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	meta := map[string]any{"tx": txA}
	want := map[string]record.Record{
		"geth": {Time: t0, Source: "system", Kind: "log", Level: "warn", Service: "geth", Message: "disk 91% full on /data",
			Attrs: map[string]any{"host": "node-1", "procid": "4242", "facility": "daemon", "meta@32473": meta}, TxHashes: []common.Hash{common.HexToHash(txA)}},
		"sshd": {Time: t0, Source: "security", Kind: "log", Level: "error", Service: "sshd", Message: "failed password for admin from " + addrA,
			Attrs:    map[string]any{"host": "node-1", "procid": "4242", "facility": "auth", "meta@32473": meta},
			TxHashes: []common.Hash{common.HexToHash(txA)}, Addresses: []common.Address{common.HexToAddress(addrA)}},
		"": {Time: testNow, Source: "system", Kind: "log", Level: "info", Message: "after the long line", Attrs: map[string]any{"facility": "user"}},
		"blocktorch": {Time: t0, Source: "system", Kind: "log", Level: "fatal", Service: "blocktorch", Message: "node restarted",
			Attrs: map[string]any{"host": "node-1", "procid": "4242", "facility": "local0", "meta@32473": meta}, TxHashes: []common.Hash{common.HexToHash(txA)}},
	}
	if len(recs) != len(want) {
		t.Fatalf("stored %d records, want %d: %s", len(recs), len(want), mustJSON(t, recs))
	}
	for _, r := range recs {
		if !reflect.DeepEqual(r, want[r.Service]) {
			t.Errorf("record of %q:\n got %s\nwant %s", r.Service, mustJSON(t, r), mustJSON(t, want[r.Service]))
		}
	}
	if s := in.Stats(); s.Accepted != 4 || s.Rejected != 2 {
		t.Errorf("stats %+v, want 4 accepted and 2 rejected (not syslog, too long)", s)
	}
}

func TestSyslogStoresWhatArrivedBeforeShutdown(t *testing.T) {
	in, w := newTestIngester(Options{})
	tcpAddr, _, stop := startSyslog(t, in)
	c, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&sb, "<14>1 - - app - - - line %d\n", i)
	}
	if _, err := c.Write([]byte(sb.String())); err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitRecords(t, w, 3000)
	stop()
	recs := w.records()
	if len(recs) != 3000 || recs[2999].Message != "line 2999" {
		t.Fatalf("stored %d records", len(recs))
	}
	if w.calls >= 3000 {
		t.Errorf("%d store writes for 3000 lines: records are not batched", w.calls)
	}
}

func TestListenSyslogBadAddress(t *testing.T) {
	in, _ := newTestIngester(Options{})
	if err := in.ListenSyslog(context.Background(), "127.0.0.1:notaport", ""); err == nil {
		t.Fatal("ListenSyslog accepted a bad address")
	}
}
