package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// selfSigned returns a TLS certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM
}

// mailbox is an in-process SMTP server (go-smtp) that requires STARTTLS
// before AUTH PLAIN and keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	mail []received
}

type received struct {
	From   string
	To     []string
	Data   []byte
	TLS    bool
	User   string
	Failed bool
}

type smtpSession struct {
	box  *mailbox
	conn *smtp.Conn
	cur  received
}

func (b *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{box: b, conn: c}, nil
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "alerts" || pass != "hunter2-pass" {
			return errors.New("bad credentials")
		}
		s.cur.User = user
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.From = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, Message: "no such mailbox"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.Data = data
	s.box.mu.Lock()
	s.box.mail = append(s.box.mail, s.cur)
	s.box.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        { s.cur = received{User: s.cur.User} }
func (s *smtpSession) Logout() error { return nil }

func startSMTP(t *testing.T, withTLS bool) (*mailbox, string, string) {
	t.Helper()
	cert, certPEM := selfSigned(t)
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "127.0.0.1"
	if withTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return box, ln.Addr().String(), caFile
}

func TestEmailOverSTARTTLS(t *testing.T) {
	box, addr, caFile := startSMTP(t, true)
	spec := Spec{Name: "mail", Type: TypeEmail, SMTPHost: addr, Username: "alerts", Password: "hunter2-pass",
		From: "blocktorch@example.com", To: []string{"oncall@example.com", "lead@example.com"}, CAFile: caFile}
	if err := send(t, spec, hostile()); err != nil {
		t.Fatal(err)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.mail) != 1 {
		t.Fatalf("received %d mails", len(box.mail))
	}
	m := box.mail[0]
	if !m.TLS || m.User != "alerts" || m.From != "blocktorch@example.com" || len(m.To) != 2 {
		t.Fatalf("envelope: tls %v user %q from %q to %v", m.TLS, m.User, m.From, m.To)
	}
	head, body, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
	if bytes.Contains(head, []byte("\r\nBcc:")) {
		t.Errorf("the summary injected a header:\n%s", head)
	}
	for _, want := range []string{"Subject: ", "Message-ID: <m1.k.firing.1@blocktorch>", "Content-Type: text/plain; charset=utf-8"} {
		if !bytes.Contains(head, []byte(want)) {
			t.Errorf("header %q missing:\n%s", want, head)
		}
	}
	if !bytes.Contains(body, []byte("Block: 42\r\n")) || !bytes.Contains(body, []byte("Search: http://127.0.0.1:8080/search?q=event%3APaused")) {
		t.Errorf("body:\n%s", body)
	}
}

func TestEmailRefusesWithoutSTARTTLS(t *testing.T) {
	box, addr, _ := startSMTP(t, false)
	err := send(t, Spec{Name: "mail", Type: TypeEmail, SMTPHost: addr, Username: "alerts", Password: "hunter2-pass",
		From: "a@example.com", To: []string{"b@example.com"}}, hostile())
	var se *SendError
	if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("plaintext relay: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") || len(box.mail) != 0 {
		t.Fatalf("leak or sent: %v", err)
	}
}

func TestEmailPermanentRejectIsNotRetried(t *testing.T) {
	_, addr, caFile := startSMTP(t, true)
	err := send(t, Spec{Name: "mail", Type: TypeEmail, SMTPHost: addr, From: "a@example.com", To: []string{"nobody@example.com"}, CAFile: caFile}, hostile())
	var se *SendError
	if !errors.As(err, &se) || se.Retryable {
		t.Fatalf("550: %v", err)
	}
	_ = context.Background
}
