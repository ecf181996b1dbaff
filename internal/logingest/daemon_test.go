package logingest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

	"github.com/blocktorch/blocktorch/internal/record"
)

// A syslog daemon the tests run with their own configuration: it reads
// local messages on a Unix socket of its temp dir, as applications write
// them with logger(1), and forwards them as it does by default (RFC 3164)
// to blocktorch over TCP and UDP.
type syslogDaemon struct {
	name string
	// find returns the command to run, or "" when the daemon is absent.
	find func() (bin string, env []string, args []string)
	// config returns the configuration: sock is the Unix socket to read,
	// tags bt-tcp and bt-udp go to the TCP and UDP ports.
	config func(dir, sock string, tcpPort, udpPort int) string
	// run returns the arguments that run it in the foreground on conf.
	run func(dir, conf string) []string
}

// syslogNGRoot is where .ci/run unpacks the syslog-ng .deb: rsyslog and
// syslog-ng conflict as Debian packages, so only rsyslog is installed.
const syslogNGRoot = "/opt/syslog-ng"

var (
	rsyslog = syslogDaemon{
		name: "rsyslog",
		find: func() (string, []string, []string) {
			bin, err := exec.LookPath("rsyslogd")
			if err != nil {
				return "", nil, nil
			}
			return bin, nil, nil
		},
		config: func(dir, sock string, tcpPort, udpPort int) string {
			return fmt.Sprintf(`global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q)
if $programname == "bt-tcp" then {
	action(type="omfwd" target="127.0.0.1" port="%d" protocol="tcp")
	stop
}
if $programname == "bt-udp" then {
	action(type="omfwd" target="127.0.0.1" port="%d" protocol="udp")
	stop
}
`, dir, sock, tcpPort, udpPort)
		},
		run: func(dir, conf string) []string {
			return []string{"-n", "-f", conf, "-i", filepath.Join(dir, "pid")}
		},
	}
	syslogNG = syslogDaemon{
		name: "syslog-ng",
		find: func() (string, []string, []string) {
			if bin, err := exec.LookPath("syslog-ng"); err == nil {
				return bin, nil, nil
			}
			bin := filepath.Join(syslogNGRoot, "usr/sbin/syslog-ng")
			if _, err := os.Stat(bin); err != nil {
				return "", nil, nil
			}
			lib := filepath.Join(syslogNGRoot, "usr/lib/syslog-ng")
			mods, _ := filepath.Glob(filepath.Join(lib, "3.*"))
			if len(mods) == 0 {
				return "", nil, nil
			}
			return bin, []string{"LD_LIBRARY_PATH=" + lib}, []string{"--module-path=" + mods[0]}
		},
		config: func(dir, sock string, tcpPort, udpPort int) string {
			return fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); time-reopen(1); };
source s_local { unix-dgram(%q); };
destination d_tcp { network("127.0.0.1" port(%d) transport("tcp")); };
destination d_udp { network("127.0.0.1" port(%d) transport("udp")); };
filter f_tcp { program("bt-tcp"); };
filter f_udp { program("bt-udp"); };
log { source(s_local); filter(f_tcp); destination(d_tcp); };
log { source(s_local); filter(f_udp); destination(d_udp); };
`, sock, tcpPort, udpPort)
		},
		run: func(dir, conf string) []string {
			return []string{"-F", "-e", "-f", conf, "--persist-file=" + filepath.Join(dir, "persist"),
				"--pidfile=" + filepath.Join(dir, "pid"), "--control=" + filepath.Join(dir, "ctl")}
		},
	}
)

func TestSyslogFromRsyslog(t *testing.T)  { testSyslogDaemon(t, rsyslog) }
func TestSyslogFromSyslogNG(t *testing.T) { testSyslogDaemon(t, syslogNG) }

// testSyslogDaemon starts d forwarding to a syslog listener, writes one
// message for each transport with logger(1), and checks the records.
func testSyslogDaemon(t *testing.T, d syslogDaemon) {
	bin, env, extra := d.find()
	logger, err := exec.LookPath("logger")
	if bin == "" || err != nil {
		msg := fmt.Sprintf("%s or logger(1) is not installed (.ci/run installs them)", d.name)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	in, w := newTestIngester(Options{Now: time.Now})
	tcpAddr, udpAddr, stop := startSyslog(t, in)
	defer stop()
	port := func(addr string) int {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return n
	}

	// A short directory: Unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "bt-syslog-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "log.sock")
	conf := filepath.Join(dir, d.name+".conf")
	if err := os.WriteFile(conf, []byte(d.config(dir, sock, port(tcpAddr), port(udpAddr))), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append(extra, d.run(dir, conf)...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("cannot start %s: %v", d.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cancel()
		<-exited
	}()

	// The daemon is ready when its socket exists.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("%s exited: %v\n%s", d.name, err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not open %s in 15 s:\n%s", d.name, sock, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	sent := time.Now()
	for _, args := range [][]string{
		{"-u", sock, "-t", "bt-tcp", "--id=4242", "-p", "auth.warning", d.name + " over tcp: failed password for admin"},
		{"-u", sock, "-t", "bt-udp", "-p", "daemon.err", d.name + " over udp: disk full on /data"},
	} {
		if b, err := exec.Command(logger, args...).CombinedOutput(); err != nil {
			t.Fatalf("logger %q: %v\n%s", args, err, b)
		}
	}
	recs := waitRecordsOr(t, w, 2, func() string { return d.name + " output:\n" + out.String() })
	host, _ := os.Hostname()
	byService := map[string]int{}
	for i, r := range recs {
		byService[r.Service] = i
	}
	for _, c := range []struct {
		service, msg, level, source, facility, procid string
	}{
		{"bt-tcp", d.name + " over tcp: failed password for admin", "warn", "security", "auth", "4242"},
		{"bt-udp", d.name + " over udp: disk full on /data", "error", "system", "daemon", ""},
	} {
		i, ok := byService[c.service]
		if !ok {
			t.Errorf("no record of %s: %s", c.service, mustJSON(t, recs))
			continue
		}
		r := recs[i]
		if r.Message != c.msg || r.Level != c.level || r.Source != c.source || r.Attrs["facility"] != c.facility {
			t.Errorf("record of %s = %s, want message %q, level %s, source %s, facility %s",
				c.service, mustJSON(t, r), c.msg, c.level, c.source, c.facility)
		}
		if got, _ := r.Attrs["procid"].(string); got != c.procid {
			t.Errorf("record of %s has procid %q, want %q", c.service, got, c.procid)
		}
		// The daemons send the short host name.
		short, _, _ := strings.Cut(host, ".")
		if got, _ := r.Attrs["host"].(string); host != "" && got != host && got != short {
			t.Errorf("record of %s has host %q, want %q", c.service, got, short)
		}
		// BSD timestamps have whole seconds, in the sender's time zone.
		if d := r.Time.Sub(sent); d < -2*time.Second || d > time.Minute {
			t.Errorf("record of %s has time %s, %s from when it was sent", c.service, r.Time, d)
		}
	}
}

// waitRecordsOr waits until w holds n records, or fails with what more
// says.
func waitRecordsOr(t *testing.T, w *ingesttest.MemWriter, n int, more func() string) []record.Record {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if recs := w.Records(); len(recs) >= n {
			return recs
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("stored %d records, want %d: %s\n%s", len(w.Records()), n, mustJSON(t, w.Records()), more())
	return nil
}
