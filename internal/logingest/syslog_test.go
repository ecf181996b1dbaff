package logingest

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
)

// parseNow is when TestParseSyslog reads its messages.
var parseNow = time.Date(2026, 2, 3, 12, 0, 0, 0, time.UTC)

func utc(y int, mon time.Month, d, h, m, s, ns int) time.Time {
	return time.Date(y, mon, d, h, m, s, ns, time.UTC)
}

// The year of a BSD timestamp is the one nearest to now, across New Year
// both ways, and never a day that does not exist.
func TestBSDTimeYear(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		ts   string
		want time.Time
	}{
		{utc(2027, 1, 1, 0, 0, 10, 0), "Dec 31 23:59:59", utc(2026, 12, 31, 23, 59, 59, 0)},
		{utc(2026, 12, 31, 23, 59, 50, 0), "Jan  1 00:00:05", utc(2027, 1, 1, 0, 0, 5, 0)},
		{utc(2025, 3, 1, 0, 0, 0, 0), "Feb 29 10:00:00", utc(2024, 2, 29, 10, 0, 0, 0)},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.FixedZone("CEST", 7200)), "Jun  1 09:00:00", time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("CEST", 7200))},
	} {
		got, rest, ok := bsdTime([]byte(c.ts+" host x: y"), c.now)
		if !ok || !got.Equal(c.want) || got.Location().String() != c.want.Location().String() || string(rest) != "host x: y" {
			t.Errorf("bsdTime(%q) at %s = %s, %q, %v; want %s", c.ts, c.now, got, rest, ok, c.want)
		}
	}
}

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
		// RFC 3164, read at parseNow (2026-02-03 12:00 UTC).
		{`<13>Feb  1 10:00:00 host tag: old style`, syslogMsg{pri: 13, time: utc(2026, 2, 1, 10, 0, 0, 0), host: "host", app: "tag", msg: "old style"}, ""},
		// RFC 3164 section 5.4, example 1: October is last year's.
		{`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			syslogMsg{pri: 34, time: utc(2025, 10, 11, 22, 14, 15, 0), host: "mymachine", app: "su", msg: "'su root' failed for lonvick on /dev/pts/8"}, ""},
		{`<86>Feb  3 11:59:59.123 web-1 sshd[1234]: Failed password for root`,
			syslogMsg{pri: 86, time: utc(2026, 2, 3, 11, 59, 59, 123e6), host: "web-1", app: "sshd", procid: "1234", msg: "Failed password for root"}, ""},
		{`<13>Feb  3 12:00:00 myapp[7]: written locally, no hostname`,
			syslogMsg{pri: 13, time: utc(2026, 2, 3, 12, 0, 0, 0), app: "myapp", procid: "7", msg: "written locally, no hostname"}, ""},
		{`<13>Feb  3 12:00:00 myapp: no hostname`, syslogMsg{pri: 13, time: utc(2026, 2, 3, 12, 0, 0, 0), app: "myapp", msg: "no hostname"}, ""},
		{`<22>Feb 13 01:02:03 mail postfix/smtpd[99] connect from x`,
			syslogMsg{pri: 22, time: utc(2026, 2, 13, 1, 2, 3, 0), host: "mail", app: "postfix/smtpd", procid: "99", msg: "connect from x"}, ""},
		{`<13>Feb  3 12:00:00 host http://example.com/ is down`, syslogMsg{pri: 13, time: utc(2026, 2, 3, 12, 0, 0, 0), host: "host", msg: "http://example.com/ is down"}, ""},
		{`<13>Feb  3 12:00:00 host plain words`, syslogMsg{pri: 13, time: utc(2026, 2, 3, 12, 0, 0, 0), host: "host", msg: "plain words"}, ""},
		{`<13>2026-02-03T11:00:00.5+01:00 host app: rsyslog high precision`,
			syslogMsg{pri: 13, time: time.Date(2026, 2, 3, 11, 0, 0, 5e8, time.FixedZone("", 3600)), host: "host", app: "app", msg: "rsyslog high precision"}, ""},
		{`Feb  3 12:00:00 host cron[1]: no PRI`, syslogMsg{pri: 13, time: utc(2026, 2, 3, 12, 0, 0, 0), host: "host", app: "cron", procid: "1", msg: "no PRI"}, ""},
		{`<13>tag: no timestamp`, syslogMsg{pri: 13, app: "tag", msg: "no timestamp"}, ""},
		{`<13>just content`, syslogMsg{pri: 13, msg: "just content"}, ""},
		{`<13>Feb 30 10:00:00 host x: not a date`, syslogMsg{pri: 13, msg: "Feb 30 10:00:00 host x: not a date"}, ""},
		{`<13>Feb  3 1:00 host x: bad clock`, syslogMsg{pri: 13, msg: "Feb  3 1:00 host x: bad clock"}, ""},
		{`not syslog`, syslogMsg{pri: 13, msg: "not syslog"}, ""},
		// An unreadable PRI: user.notice, the whole frame is content.
		{`<192>1 - - - - - -`, syslogMsg{pri: 13, msg: "<192>1 - - - - - -"}, ""},
		{`<013>1 - - - - - -`, syslogMsg{pri: 13, msg: "<013>1 - - - - - -"}, ""},
		{`13>1 - - - - - -`, syslogMsg{pri: 13, msg: "13>1 - - - - - -"}, ""},
		{`<13>1 yesterday - - - - -`, syslogMsg{}, "not RFC 3339"},
		{`<13>1 - - - - -`, syslogMsg{}, "missing MSGID"},
		{`<13>1 - - - - - x`, syslogMsg{}, "neither - nor ["},
		{`<13>1 - - - - - [a b="c"`, syslogMsg{}, "without ]"},
		{`<13>1 - - - - - [a b="c]`, syslogMsg{}, "unterminated"},
		{`<13>1 - - - - - [a b=c]`, syslogMsg{}, `not NAME="VALUE"`},
		{`<13>1 - - - - - -msg`, syslogMsg{}, "no space before MSG"},
	}
	for _, tt := range tests {
		got, err := parseSyslog([]byte(tt.in), parseNow)
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
func waitRecords(t *testing.T, w *ingesttest.MemWriter, n int) []record.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if recs := w.Records(); len(recs) >= n {
			return recs
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("stored %d records, want %d", len(w.Records()), n)
	return nil
}

func TestSyslogTCPAndUDP(t *testing.T) {
	in, w := newTestIngester(Options{MaxLineBytes: 1024})
	tcpAddr, udpAddr, stop := startSyslog(t, in)

	msg := func(pri int, app, text string) string {
		return fmt.Sprintf("<%d>1 2026-02-01T10:00:00Z node-1 %s 4242 - [meta@32473 tx=%q] %s", pri, app, ingesttest.TxA, text)
	}
	c, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	octet := msg(3*8+4, "geth", "disk 91% full on /data")
	newline := msg(4*8+3, "sshd", "failed password for admin from "+ingesttest.AddrA)
	frames := fmt.Sprintf("%d %s", len(octet), octet) + newline + "\n" +
		// RFC 3164, with PRI, and without PRI starting with the digits of
		// an RFC 3339 time: a line, not an octet count.
		"<38>Feb  1 10:00:00 node-2 sshd[77]: accepted publickey for deploy\n" +
		"2026-02-01T10:00:00Z node-3 cron[5]: job done\n" +
		strings.Repeat("x", 2000) + "\n" + "<14>1 - - - - - - after the long line\r\n"
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
	if _, err := u.Write([]byte("<30>Feb  1 10:00:00 node-4 ntpd[9]: clock stepped")); err != nil {
		t.Fatal(err)
	}
	u.Close()

	recs := waitRecords(t, w, 7)
	stop()
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	meta := map[string]any{"tx": ingesttest.TxA}
	want := map[string]record.Record{
		"geth": {Time: t0, Source: "system", Kind: "log", Level: "warn", Service: "geth", Message: "disk 91% full on /data",
			Attrs: map[string]any{"host": "node-1", "procid": "4242", "facility": "daemon", "meta@32473": meta}, TxHashes: []common.Hash{common.HexToHash(ingesttest.TxA)}},
		"sshd": {Time: t0, Source: "security", Kind: "log", Level: "error", Service: "sshd", Message: "failed password for admin from " + ingesttest.AddrA,
			Attrs:    map[string]any{"host": "node-1", "procid": "4242", "facility": "auth", "meta@32473": meta},
			TxHashes: []common.Hash{common.HexToHash(ingesttest.TxA)}, Addresses: []common.Address{common.HexToAddress(ingesttest.AddrA)}},
		"": {Time: testNow, Source: "system", Kind: "log", Level: "info", Message: "after the long line", Attrs: map[string]any{"facility": "user"}},
		"blocktorch": {Time: t0, Source: "system", Kind: "log", Level: "fatal", Service: "blocktorch", Message: "node restarted",
			Attrs: map[string]any{"host": "node-1", "procid": "4242", "facility": "local0", "meta@32473": meta}, TxHashes: []common.Hash{common.HexToHash(ingesttest.TxA)}},
		"sshd-3164": {Time: t0, Source: "security", Kind: "log", Level: "info", Service: "sshd", Message: "accepted publickey for deploy",
			Attrs: map[string]any{"host": "node-2", "procid": "77", "facility": "auth"}},
		"cron": {Time: t0, Source: "system", Kind: "log", Level: "info", Service: "cron", Message: "job done",
			Attrs: map[string]any{"host": "node-3", "procid": "5", "facility": "user"}},
		"ntpd": {Time: t0, Source: "system", Kind: "log", Level: "info", Service: "ntpd", Message: "clock stepped",
			Attrs: map[string]any{"host": "node-4", "procid": "9", "facility": "daemon"}},
	}
	if len(recs) != len(want) {
		t.Fatalf("stored %d records, want %d: %s", len(recs), len(want), mustJSON(t, recs))
	}
	for _, r := range recs {
		key := r.Service
		if key == "sshd" && r.Attrs["host"] == "node-2" {
			key = "sshd-3164"
		}
		if !reflect.DeepEqual(r, want[key]) {
			t.Errorf("record of %q:\n got %s\nwant %s", key, mustJSON(t, r), mustJSON(t, want[key]))
		}
	}
	if s := in.Stats(); s.Accepted != 7 || s.Rejected != 1 {
		t.Errorf("stats %+v, want 7 accepted and 1 rejected (too long)", s)
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
	recs := w.Records()
	if len(recs) != 3000 || recs[2999].Message != "line 2999" {
		t.Fatalf("stored %d records", len(recs))
	}
	if w.Calls() >= 3000 {
		t.Errorf("%d store writes for 3000 lines: records are not batched", w.Calls())
	}
}

func TestListenSyslogBadAddress(t *testing.T) {
	in, _ := newTestIngester(Options{})
	if err := in.ListenSyslog(context.Background(), "127.0.0.1:notaport", ""); err == nil {
		t.Fatal("ListenSyslog accepted a bad address")
	}
}
