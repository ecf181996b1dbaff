package logingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/record"
)

const (
	// syslogBatch caps the records of one store write.
	syslogBatch = 1000
	// maxSyslogConns caps concurrent TCP connections; more are closed.
	maxSyslogConns = 256
	// maxDatagram is the largest UDP datagram.
	maxDatagram = 64 << 10
)

// facilities are the RFC 5424 facility names, by code.
var facilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
	"local5", "local6", "local7"}

// ListenSyslog receives syslog messages, RFC 5424 or RFC 3164, on tcpAddr
// (octet-counting or newline framing, RFC 6587) and udpAddr (one message a
// datagram) until ctx ends; an empty address leaves that transport off.
// See ServeSyslog.
func (in *Ingester) ListenSyslog(ctx context.Context, tcpAddr, udpAddr string) error {
	var ln net.Listener
	var pc net.PacketConn
	var err error
	if tcpAddr != "" {
		if ln, err = net.Listen("tcp", tcpAddr); err != nil {
			return fmt.Errorf("cannot listen for syslog on tcp %s: %w", tcpAddr, err)
		}
	}
	if udpAddr != "" {
		if pc, err = net.ListenPacket("udp", udpAddr); err != nil {
			if ln != nil {
				ln.Close()
			}
			return fmt.Errorf("cannot listen for syslog on udp %s: %w", udpAddr, err)
		}
	}
	return in.ServeSyslog(ctx, ln, pc)
}

// ServeSyslog receives syslog on ln (TCP) and pc (UDP), either of which may
// be nil, until ctx ends, then closes them and returns nil once what was
// received is stored. Records have source system (security for the auth
// and authpriv facilities), the level of the severity, the app-name (RFC
// 3164: the TAG) as service, and hostname, procid (the PID), msgid,
// facility and each structured data element (as an object of its
// parameters) as attributes. Syslog has no
// answer: rejected frames and failed writes are logged and counted in Stats.
func (in *Ingester) ServeSyslog(ctx context.Context, ln net.Listener, pc net.PacketConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan record.Record, 4*syslogBatch)
	var readers sync.WaitGroup
	if ln != nil {
		readers.Add(1)
		go func() {
			defer readers.Done()
			in.acceptSyslog(ctx, ln, recs)
		}()
	}
	if pc != nil {
		readers.Add(1)
		go func() {
			defer readers.Done()
			in.readSyslogUDP(ctx, pc, recs)
		}()
	}
	go func() {
		<-ctx.Done()
		if ln != nil {
			ln.Close()
		}
		if pc != nil {
			pc.Close()
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.writeSyslog(recs)
	}()
	readers.Wait()
	close(recs)
	<-done
	return nil
}

// writeSyslog stores records as they come, in batches of what is waiting.
func (in *Ingester) writeSyslog(recs <-chan record.Record) {
	for rec := range recs {
		batch := []record.Record{rec}
	drain:
		for len(batch) < syslogBatch {
			select {
			case r, ok := <-recs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		// The write outlives the listeners' context so that what was
		// received before shutdown is still stored.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := in.w.AppendRecords(ctx, batch)
		cancel()
		if err != nil {
			in.writeFailures.Add(1)
			in.opts.Log.Error("syslog: cannot store records; they are lost", "records", len(batch), "err", err)
			continue
		}
		in.accepted.Add(int64(len(batch)))
	}
}

func (in *Ingester) acceptSyslog(ctx context.Context, ln net.Listener, recs chan<- record.Record) {
	var conns sync.WaitGroup
	defer conns.Wait()
	sem := make(chan struct{}, maxSyslogConns)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				in.opts.Log.Error("syslog: accept failed; TCP syslog stops", "err", err)
			}
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			in.opts.Log.Warn("syslog: too many connections; closing one", "remote", c.RemoteAddr().String())
			c.Close()
			continue
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer func() { <-sem }()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			defer c.Close()
			in.readSyslogConn(c, recs)
		}()
	}
}

// readSyslogConn reads frames from one TCP connection: octet counting
// ("LEN SP MSG") when a frame starts with a digit, else a line.
func (in *Ingester) readSyslogConn(c net.Conn, recs chan<- record.Record) {
	remote := c.RemoteAddr().String()
	br := bufio.NewReaderSize(c, 64<<10)
	bld := in.newBuilder()
	for {
		frame, err := in.readFrame(br)
		if err != nil {
			var fe *frameError
			if errors.As(err, &fe) {
				in.syslogReject(remote, fe.err)
				if fe.fatal {
					return
				}
				continue
			}
			return // EOF or closed
		}
		if len(frame) == 0 {
			continue
		}
		in.syslogFrame(bld, remote, frame, recs)
	}
}

// octetCounted reports whether the frame at the head of br starts with
// "LEN SP": octet counting. A line can start with digits too (an RFC 3164
// message without PRI whose timestamp is RFC 3339). It peeks one byte past
// the digits, which a line of them has as well (its newline), so it waits
// for nothing a line framing would not.
func octetCounted(br *bufio.Reader) bool {
	for n := 1; n <= 11; n++ {
		b, err := br.Peek(n + 1)
		if err != nil {
			return false
		}
		switch c := b[n]; {
		case c == ' ':
			return true
		case c < '0' || c > '9':
			return false
		}
	}
	return false
}

type frameError struct {
	err error
	// fatal: the stream cannot be resynchronised.
	fatal bool
}

func (e *frameError) Error() string { return e.err.Error() }

func (in *Ingester) readFrame(br *bufio.Reader) ([]byte, error) {
	first, err := br.Peek(1)
	if err != nil {
		return nil, err
	}
	max := in.opts.MaxLineBytes
	if '0' <= first[0] && first[0] <= '9' && octetCounted(br) {
		head, err := br.ReadSlice(' ')
		if err != nil || len(head) > 11 {
			return nil, &frameError{errors.New("octet count is not digits followed by a space"), true}
		}
		n, err := strconv.Atoi(string(head[:len(head)-1]))
		if err != nil || n < 0 {
			return nil, &frameError{errors.New("octet count is not a number"), true}
		}
		if n > max {
			if _, err := br.Discard(n); err != nil {
				return nil, err
			}
			return nil, &frameError{fmt.Errorf("frame of %d bytes is over the limit of %d", n, max), false}
		}
		frame := make([]byte, n)
		if _, err := io.ReadFull(br, frame); err != nil {
			return nil, err
		}
		return bytes.TrimRight(frame, "\r\n"), nil
	}
	var frame []byte
	for {
		part, err := br.ReadSlice('\n')
		if len(frame)+len(part) > max+2 {
			// Skip to the end of the over-long line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return nil, err
			}
			return nil, &frameError{fmt.Errorf("line over the limit of %d bytes", max), false}
		}
		frame = append(frame, part...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (err != io.EOF || len(frame) == 0) {
			return nil, err
		}
		return bytes.TrimRight(frame, "\r\n\x00"), nil
	}
}

func (in *Ingester) readSyslogUDP(ctx context.Context, pc net.PacketConn, recs chan<- record.Record) {
	buf := make([]byte, maxDatagram)
	bld := in.newBuilder()
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				in.opts.Log.Error("syslog: UDP read failed; UDP syslog stops", "err", err)
			}
			return
		}
		frame := bytes.TrimRight(buf[:n], "\r\n\x00")
		if len(frame) > in.opts.MaxLineBytes {
			in.syslogReject(addr.String(), fmt.Errorf("datagram of %d bytes is over the limit of %d", len(frame), in.opts.MaxLineBytes))
			continue
		}
		if len(frame) > 0 {
			in.syslogFrame(bld, addr.String(), frame, recs)
		}
	}
}

func (in *Ingester) syslogFrame(bld *builder, remote string, frame []byte, recs chan<- record.Record) {
	bld.reset()
	rec, err := bld.syslogRecord(frame)
	if err != nil {
		in.syslogReject(remote, err)
		return
	}
	if bld.invalidUTF8 {
		in.invalidUTF8.Add(1)
	}
	recs <- rec
}

func (in *Ingester) syslogReject(remote string, err error) {
	in.rejected.Add(1)
	in.opts.Log.Warn("syslog: message rejected", "remote", remote, "err", err)
}

// syslogRecord parses one RFC 5424 or RFC 3164 message into a record.
func (b *builder) syslogRecord(frame []byte) (record.Record, error) {
	m, err := parseSyslog(frame, b.opts.Now())
	if err != nil {
		return record.Record{}, err
	}
	rec := record.Record{
		Time:    m.time,
		Source:  record.SourceSystem,
		Level:   syslogLevel(m.pri % 8),
		Service: m.app,
		Message: m.msg,
	}
	if f := m.pri / 8; f == 4 || f == 10 {
		rec.Source = record.SourceSecurity
	}
	fac := strconv.Itoa(m.pri / 8)
	if f := m.pri / 8; f < len(facilities) {
		fac = facilities[f]
	}
	for _, kv := range [][2]string{{"host", m.host}, {"procid", m.procid}, {"msgid", m.msgid}, {"facility", fac}} {
		if kv[1] != "" {
			if err := b.setAttr(&rec, kv[0], kv[1]); err != nil {
				return rec, err
			}
		}
	}
	for _, sd := range m.sd {
		params := make(map[string]any, len(sd.params))
		for _, p := range sd.params {
			params[p[0]] = p[1]
		}
		if err := b.setAttr(&rec, sd.id, params); err != nil {
			return rec, err
		}
	}
	err = b.finish(&rec)
	return rec, err
}

// syslogMsg is a parsed syslog message; absent (nil) fields are empty. An
// RFC 3164 message has no msgid and no structured data, and its TAG and
// PID are app and procid.
type syslogMsg struct {
	pri                      int
	time                     time.Time
	host, app, procid, msgid string
	sd                       []sdElement
	msg                      string
}

type sdElement struct {
	id     string
	params [][2]string
}

// parseSyslog parses one syslog message: RFC 5424 when "<PRI>1 " starts
// it, else RFC 3164 (see parse3164). now places the year-less BSD
// timestamps of RFC 3164 in time and in a time zone.
func parseSyslog(b []byte, now time.Time) (syslogMsg, error) {
	pri, rest, ok := parsePRI(b)
	if ok && len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		return parse5424(pri, rest[2:])
	}
	if !ok {
		// RFC 3164 section 4.3.3: a message without a PRI, or with one
		// that cannot be read, is user.notice and all of it is content.
		pri, rest = 13, b
	}
	return parse3164(pri, rest, now), nil
}

// parsePRI reads "<PRI>" (0 to 191, no leading zero) at the start of b.
func parsePRI(b []byte) (pri int, rest []byte, ok bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, b, false
	}
	end := bytes.IndexByte(b[:min(len(b), 5)], '>')
	if end < 2 || (end > 2 && b[1] == '0') {
		return 0, b, false
	}
	for _, c := range b[1:end] {
		if c < '0' || c > '9' {
			return 0, b, false
		}
	}
	pri, _ = strconv.Atoi(string(b[1:end]))
	if pri > 191 {
		return 0, b, false
	}
	return pri, b[end+1:], true
}

// parse5424 parses RFC 5424 (section 6) after "<PRI>1 ":
// TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG].
func parse5424(pri int, rest []byte) (syslogMsg, error) {
	m := syslogMsg{pri: pri}
	field := func(what string) (string, error) {
		i := bytes.IndexByte(rest, ' ')
		if i <= 0 {
			return "", fmt.Errorf("not RFC 5424 syslog: missing %s", what)
		}
		f := string(rest[:i])
		rest = rest[i+1:]
		if f == "-" {
			return "", nil
		}
		return f, nil
	}
	ts, err := field("TIMESTAMP")
	if err != nil {
		return m, err
	}
	if ts != "" {
		if m.time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return m, fmt.Errorf("syslog TIMESTAMP %q is not RFC 3339", truncate(ts, 40))
		}
	}
	for _, f := range []struct {
		what string
		dst  *string
	}{{"HOSTNAME", &m.host}, {"APP-NAME", &m.app}, {"PROCID", &m.procid}, {"MSGID", &m.msgid}} {
		if *f.dst, err = field(f.what); err != nil {
			return m, err
		}
	}
	// STRUCTURED-DATA: "-" or one or more [ID PARAM="VALUE" …].
	switch {
	case len(rest) == 0:
		return m, errors.New("not RFC 5424 syslog: missing STRUCTURED-DATA")
	case rest[0] == '-':
		rest = rest[1:]
	case rest[0] == '[':
		for len(rest) > 0 && rest[0] == '[' {
			var el sdElement
			if el, rest, err = parseSDElement(rest[1:]); err != nil {
				return m, err
			}
			m.sd = append(m.sd, el)
		}
	default:
		return m, errors.New("not RFC 5424 syslog: STRUCTURED-DATA is neither - nor [")
	}
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return m, errors.New("not RFC 5424 syslog: no space before MSG")
		}
		m.msg = string(bytes.TrimPrefix(rest[1:], []byte("\xef\xbb\xbf")))
	}
	return m, nil
}

// parse3164 reads the rest of an RFC 3164 message after its PRI, as
// rsyslog, syslog-ng, logger and appliances send it:
//
//	[TIMESTAMP SP [HOSTNAME SP]] [TAG["[" PID "]"] ":" SP] MSG
//
// TIMESTAMP is "Mmm dd hh:mm:ss" (day padded with a space, optional
// fractional seconds) in now's time zone and in the year that puts it
// nearest to now, or an RFC 3339 time (rsyslog's high-precision forward
// format). Without a timestamp, the whole rest is content. HOSTNAME is
// absent when the word after the timestamp is already a tag (it ends with
// ":" or holds "["), as local senders write it. TAG is the service, up to
// 48 bytes without space, "[" or ":". Every byte sequence is a message.
func parse3164(pri int, b []byte, now time.Time) syslogMsg {
	m := syslogMsg{pri: pri}
	if t, rest, ok := bsdTime(b, now); ok {
		m.time, b = t, rest
		if w, after, ok := cutWord(b); ok && !isTagWord(w) {
			m.host, b = string(w), after
		}
	}
	m.app, m.procid, b = cutTag(b)
	m.msg = string(b)
	return m
}

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// bsdTime reads an RFC 3164 or RFC 3339 timestamp and the space after it.
func bsdTime(b []byte, now time.Time) (time.Time, []byte, bool) {
	if w, rest, ok := cutWord(b); ok && len(w) >= 20 && w[0] >= '0' && w[0] <= '9' {
		if t, err := time.Parse(time.RFC3339Nano, string(w)); err == nil {
			return t, rest, true
		}
	}
	if len(b) < 15 || b[3] != ' ' {
		return time.Time{}, b, false
	}
	mon, ok := months[string(b[:3])]
	if !ok {
		return time.Time{}, b, false
	}
	i := 4
	if b[i] == ' ' {
		i++
	}
	day := 0
	for j := i; j < i+2 && j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		day = day*10 + int(b[j]-'0')
		i = j + 1
	}
	if day == 0 || i >= len(b) || b[i] != ' ' {
		return time.Time{}, b, false
	}
	clock, rest, ok := cutWord(b[i+1:])
	if !ok {
		return time.Time{}, b, false
	}
	c, err := time.Parse("15:04:05", string(clock)) // accepts fractional seconds
	if err != nil || len(clock) < 8 {
		return time.Time{}, b, false
	}
	loc := now.Location()
	var best time.Time
	for _, y := range []int{now.Year() - 1, now.Year(), now.Year() + 1} {
		t := time.Date(y, mon, day, c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), loc)
		if t.Month() != mon || t.Day() != day { // Feb 29 of another year, Apr 31
			continue
		}
		if best.IsZero() || t.Sub(now).Abs() < best.Sub(now).Abs() {
			best = t
		}
	}
	if best.IsZero() {
		return time.Time{}, b, false
	}
	return best, rest, true
}

// cutWord returns the bytes of b up to its first space, and what follows
// the space; ok is false when b has no space or starts with one.
func cutWord(b []byte) (word, rest []byte, ok bool) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 {
		return nil, b, false
	}
	return b[:i], b[i+1:], true
}

// maxTag bounds a TAG (RFC 3164 says 32 alphanumerics; senders write
// longer ones, with "/", "-", "." and "_").
const maxTag = 48

// isTagWord reports whether w reads as a TAG rather than a HOSTNAME.
func isTagWord(w []byte) bool {
	return bytes.HasSuffix(w, []byte(":")) || bytes.IndexByte(w, '[') > 0
}

// cutTag reads TAG, TAG[PID] or TAG[PID]: / TAG: followed by a space, and
// returns the tag, the PID and the message after them; without a tag the
// message is all of b.
func cutTag(b []byte) (tag, pid string, msg []byte) {
	i := bytes.IndexAny(b[:min(len(b), maxTag+1)], " [:")
	if i <= 0 {
		return "", "", b
	}
	rest := b[i:]
	if rest[0] == '[' {
		j := bytes.IndexByte(rest, ']')
		if j < 2 || bytes.IndexByte(rest[1:j], ' ') >= 0 {
			return "", "", b
		}
		pid, rest = string(rest[1:j]), rest[j+1:]
		if len(rest) > 0 && rest[0] == ':' {
			rest = rest[1:]
		}
	} else if rest[0] == ':' {
		rest = rest[1:]
	} else {
		return "", "", b // a word followed by a space: content, not a tag
	}
	if len(rest) > 0 && rest[0] != ' ' {
		return "", "", b // "a:b" is content
	}
	return string(b[:i]), pid, bytes.TrimPrefix(rest, []byte(" "))
}

// parseSDElement parses one element after its "[", returning what follows
// its "]".
func parseSDElement(b []byte) (sdElement, []byte, error) {
	var el sdElement
	i := bytes.IndexAny(b, " ]")
	if i <= 0 {
		return el, nil, errors.New("syslog STRUCTURED-DATA: element without an SD-ID")
	}
	el.id = string(b[:i])
	b = b[i:]
	for {
		if len(b) == 0 {
			return el, nil, errors.New("syslog STRUCTURED-DATA: element without ]")
		}
		if b[0] == ']' {
			return el, b[1:], nil
		}
		if b[0] != ' ' {
			return el, nil, errors.New("syslog STRUCTURED-DATA: want a space before a parameter")
		}
		b = b[1:]
		eq := bytes.IndexByte(b, '=')
		if eq <= 0 || eq+1 >= len(b) || b[eq+1] != '"' {
			return el, nil, errors.New(`syslog STRUCTURED-DATA: parameter is not NAME="VALUE"`)
		}
		name := string(b[:eq])
		b = b[eq+2:]
		// The value ends at the first unescaped quote; \" \\ \] are escapes.
		var val []byte
		j := 0
		for ; j < len(b) && b[j] != '"'; j++ {
			if b[j] == '\\' && j+1 < len(b) && (b[j+1] == '"' || b[j+1] == '\\' || b[j+1] == ']') {
				j++
			}
			val = append(val, b[j])
		}
		if j == len(b) {
			return el, nil, errors.New("syslog STRUCTURED-DATA: unterminated parameter value")
		}
		el.params = append(el.params, [2]string{name, string(val)})
		b = b[j+1:]
	}
}
