package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Destinations is the policy of where notifications may be sent. Channels
// are configured through the API and monitor files, so without a policy a
// channel could make the server post to its own API, a cloud metadata
// endpoint (169.254.169.254) or any host of the internal network (SSRF).
// The zero value allows public addresses only; Allow and AllowPrivate are
// the operator's exceptions. The check runs on the address actually dialed,
// after DNS resolution and for every redirect, so a name that resolves to a
// private address, or a redirect to one, is refused too.
type Destinations struct {
	// AllowPrivate allows every address: loopback, private, link-local,
	// unspecified and multicast ones included.
	AllowPrivate bool
	// Allow lists networks allowed although they are not public (a relay
	// at 10.0.0.25/32, a receiver on 127.0.0.1/32).
	Allow []netip.Prefix
}

// Loopback is the Allow list of a policy that lets notifications reach
// this machine (tests, a local relay).
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParseDestinations builds the policy from --notify-allow-private and the
// comma-separated networks or addresses of --notify-allow.
func ParseDestinations(allowPrivate bool, allow string) (Destinations, error) {
	d := Destinations{AllowPrivate: allowPrivate}
	for _, s := range strings.Split(allow, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return d, fmt.Errorf("--notify-allow: %q is not a network (10.0.0.0/8) or an address", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		d.Allow = append(d.Allow, p.Masked())
	}
	return d, nil
}

// DestinationError is a destination the policy refuses. Retrying cannot
// help: the delivery goes to the dead letters with this message.
type DestinationError struct {
	Addr netip.Addr
	Kind string // "loopback", "private", "link-local", …
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("destination %s is a %s address: notifications go to public addresses only "+
		"(allow it with --notify-allow %s or --notify-allow-private)", e.Addr, e.Kind, e.Addr)
}

// nonPublic are special-purpose IPv4 networks that netip's predicates do
// not name (RFC 6890).
var nonPublic = []struct {
	p    netip.Prefix
	kind string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("100.64.0.0/10"), "private (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
}

// Check returns a *DestinationError when notifications may not go to a.
func (d Destinations) Check(a netip.Addr) error {
	if d.AllowPrivate {
		return nil
	}
	a = a.Unmap()
	for _, p := range d.Allow {
		if p.Contains(a) {
			return nil
		}
	}
	kind := ""
	switch {
	case !a.IsValid():
		kind = "invalid"
	case a.IsLoopback():
		kind = "loopback"
	case a.IsUnspecified():
		kind = "unspecified"
	case a.IsLinkLocalUnicast():
		kind = "link-local"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		kind = "multicast"
	case a.IsPrivate():
		kind = "private"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		kind = "broadcast"
	}
	for _, n := range nonPublic {
		if kind == "" && n.p.Contains(a) {
			kind = n.kind
		}
	}
	if kind == "" {
		return nil
	}
	return &DestinationError{Addr: a, Kind: kind}
}

// control is a net.Dialer Control: it sees the resolved address of every
// connection, so DNS answers and redirects cannot get around the policy.
func (d Destinations) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("cannot check destination %q: %w", address, err)
	}
	return d.Check(ap.Addr())
}

// dialer returns a dialer that enforces the policy.
func (d Destinations) dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: d.control}
}

// maxRedirects bounds the redirects a notification follows.
const maxRedirects = 5

// client returns an HTTP client whose every connection is checked. It
// connects directly: through an HTTP proxy, the proxy's address would be
// the one checked, not the receiver's.
func (d Destinations) client(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.dialer(timeout).DialContext
	return &http.Client{Timeout: timeout, Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to a %s URL refused", req.URL.Scheme)
		}
		return nil
	}}
}

// CheckSpec resolves the hosts a channel sends to and reports the first one
// the policy refuses, naming the channel, so that a monitor file or API
// call is refused when it is applied rather than at the first alert. The
// dial-time check still runs on every delivery: DNS answers change.
func (d Destinations) CheckSpec(ctx context.Context, s Spec) error {
	if d.AllowPrivate {
		return nil
	}
	var hosts []string
	switch s.Type {
	case TypeEmail:
		h := s.SMTPHost
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		hosts = append(hosts, h)
	default:
		if s.URL != "" {
			if u, err := url.Parse(s.URL); err == nil {
				hosts = append(hosts, u.Hostname())
			}
		}
	}
	for _, h := range hosts {
		addrs, err := resolve(ctx, h)
		if err != nil {
			// Unresolvable now: the delivery reports it; not a policy matter.
			continue
		}
		for _, a := range addrs {
			if err := d.Check(a); err != nil {
				return fmt.Errorf("channel %s: %s: %w", s.Name, h, err)
			}
		}
	}
	return nil
}

func resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// isDestinationError reports whether err is a refusal of the policy.
func isDestinationError(err error) bool {
	var de *DestinationError
	return errors.As(err, &de)
}
