package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// email sends a plain-text mail through an SMTP relay, upgrading the
// connection with STARTTLS before authenticating or sending anything.
type email struct {
	spec  Spec
	host  string // host:port
	name  string // host, for TLS and AUTH
	roots *x509.CertPool
	scrub scrubber
	dest  Destinations
}

func newEmail(s Spec, dest Destinations) (*email, error) {
	host := s.SMTPHost
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "587")
	}
	name, _, _ := net.SplitHostPort(host)
	e := &email{spec: s, host: host, name: name, scrub: newScrubber(s.secrets()), dest: dest}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("channel %s: cannot read caFile: %w", s.Name, err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("channel %s: caFile %s holds no PEM certificate", s.Name, s.CAFile)
		}
		e.roots = roots
	}
	return e, nil
}

// headerSafe drops CR and LF: a summary from the chain must not inject
// headers.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func emailBody(m Message) string {
	var b strings.Builder
	b.WriteString(m.Title() + "\n\n" + m.Summary + "\n")
	if m.Details != "" {
		b.WriteString("\n" + m.Details + "\n")
	}
	b.WriteString("\n")
	for _, f := range m.facts() {
		b.WriteString(f[0] + ": " + f[1] + "\n")
	}
	for _, l := range m.Links {
		b.WriteString(l.Text + ": " + l.URL + "\n")
	}
	// SMTP lines end in CRLF; a lone CR or LF from the chain is normalised.
	text := strings.ReplaceAll(b.String(), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return strings.ReplaceAll(text, "\n", "\r\n")
}

func (e *email) message(m Message, now time.Time) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + headerSafe(v) + "\r\n") }
	h("From", e.spec.From)
	h("To", strings.Join(e.spec.To, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", truncate(m.Title()+": "+m.Summary, 200)))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", "<"+strings.NewReplacer("/", ".", "@", ".", " ", "", "<", "", ">", "").Replace(m.Key)+"@blocktorch>")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	h("X-Blocktorch-Alert", m.AlertKey)
	b.WriteString("\r\n")
	b.WriteString(emailBody(m))
	return []byte(b.String())
}

func (e *email) Send(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, e.spec.timeout())
	defer cancel()
	if err := e.send(ctx, m); err != nil {
		var se *SendError
		var te *textproto.Error
		if isDestinationError(err) {
			err = &SendError{Err: err}
		} else if errors.As(err, &te) && te.Code >= 500 {
			// A permanent SMTP reply (550 no such mailbox, …).
			err = &SendError{Err: err}
		} else if !errors.As(err, &se) {
			// Network trouble and 4xx SMTP replies are worth a retry; a
			// refused STARTTLS is not (SendError with Retryable false).
			err = &SendError{Retryable: true, Err: err}
		}
		return e.scrub.err(err)
	}
	return nil
}

func (e *email) send(ctx context.Context, m Message) error {
	conn, err := e.dest.dialer(0).DialContext(ctx, "tcp", e.host)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", e.host, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, e.name)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP greeting from %s: %w", e.host, err)
	}
	defer c.Close()
	if err := c.Hello("blocktorch"); err != nil {
		return fmt.Errorf("SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: e.name, RootCAs: e.roots, MinVersion: tls.VersionTLS12}); err != nil {
			return &SendError{Err: fmt.Errorf("SMTP STARTTLS with %s: %w", e.host, err)}
		}
	} else if !e.spec.Plaintext {
		return &SendError{Err: fmt.Errorf("SMTP relay %s does not offer STARTTLS (set plaintext: true to send in the clear)", e.host)}
	}
	if e.spec.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.spec.Username, e.spec.Password, e.name)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	if err := c.Mail(e.spec.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	for _, to := range e.spec.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(e.message(m, time.Now())); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	return c.Quit()
}
