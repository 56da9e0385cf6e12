// Package smtptest is a minimal SMTP server on loopback for tests: it
// accepts every message (EHLO/HELO, MAIL, RCPT, DATA, QUIT; STARTTLS and
// AUTH PLAIN when asked to offer them) and keeps what it received.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port
	// Roots trusts the server's certificate (Options.StartTLS).
	Roots *x509.CertPool
	opts  Options
	tls   *tls.Config
	mu    sync.Mutex
	msgs  []string
	rcpt  []string
	auths []Auth
}

// Options choose what the server offers.
type Options struct {
	Host     string // loopback address to listen on (default 127.0.0.1)
	StartTLS bool   // offer STARTTLS with a certificate for Host (see Roots)
	Auth     bool   // offer AUTH PLAIN
}

// Auth is an AUTH PLAIN the server received.
type Auth struct {
	Username, Password string
	TLS                bool // the session was encrypted when it came
}

// Start runs a plain server (no STARTTLS, no AUTH) until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs a server with these options until the test ends.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &Server{Addr: ln.Addr().String(), opts: o}
	if o.StartTLS {
		s.tls, s.Roots = certificate(t, o.Host)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// certificate is a self-signed certificate for host and a pool that
// trusts it.
func certificate(t testing.TB, host string) (*tls.Config, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP(host)}, DNSNames: []string{"localhost"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

func (s *Server) hello(say func(string), encrypted bool) {
	say("250-fake")
	if s.opts.StartTLS && !encrypted {
		say("250-STARTTLS")
	}
	if s.opts.Auth {
		say("250-AUTH PLAIN")
	}
	say("250 8BITMIME")
}

func (s *Server) auth(line string, encrypted bool) bool {
	f := strings.Fields(line)
	if len(f) != 3 || !strings.EqualFold(f[1], "PLAIN") {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(f[2])
	parts := strings.Split(string(b), "\x00")
	if err != nil || len(parts) != 3 {
		return false
	}
	s.mu.Lock()
	s.auths = append(s.auths, Auth{Username: parts[1], Password: parts[2], TLS: encrypted})
	s.mu.Unlock()
	return true
}

// session is one client's connection.
type session struct {
	c         net.Conn
	r         *bufio.Reader
	encrypted bool
}

func (ss *session) say(l string) { _, _ = io.WriteString(ss.c, l+"\r\n") }

func (s *Server) serve(c net.Conn) {
	ss := &session{c: c, r: bufio.NewReader(c)}
	defer func() { ss.c.Close() }()
	ss.say("220 fake ESMTP")
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil || !s.command(ss, line) {
			return
		}
	}
}

// command answers one command line; false ends the session.
func (s *Server) command(ss *session, line string) bool {
	cmd := strings.ToUpper(strings.TrimSpace(line))
	switch {
	case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
		s.hello(ss.say, ss.encrypted)
	case cmd == "STARTTLS" && s.tls != nil && !ss.encrypted:
		ss.say("220 go ahead")
		tc := tls.Server(ss.c, s.tls)
		if tc.Handshake() != nil {
			return false
		}
		ss.c, ss.r, ss.encrypted = tc, bufio.NewReader(tc), true
	case strings.HasPrefix(cmd, "AUTH") && s.opts.Auth:
		if s.auth(strings.TrimSpace(line), ss.encrypted) {
			ss.say("235 accepted")
		} else {
			ss.say("535 refused")
		}
	case strings.HasPrefix(cmd, "RCPT TO"):
		s.mu.Lock()
		s.rcpt = append(s.rcpt, strings.TrimSpace(line[8:]))
		s.mu.Unlock()
		ss.say("250 OK")
	case cmd == "DATA":
		return s.data(ss)
	case cmd == "QUIT":
		ss.say("221 bye")
		return false
	default:
		ss.say("250 OK")
	}
	return true
}

// data reads a message up to its lone dot and keeps it.
func (s *Server) data(ss *session) bool {
	ss.say("354 go on")
	var b strings.Builder
	for {
		l, err := ss.r.ReadString('\n')
		if err != nil {
			return false
		}
		if l == ".\r\n" {
			break
		}
		b.WriteString(l)
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, b.String())
	s.mu.Unlock()
	ss.say("250 queued")
	return true
}

// Messages are the messages received so far (headers and body, as sent).
func (s *Server) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// Auths are the AUTH PLAIN credentials received so far.
func (s *Server) Auths() []Auth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Auth(nil), s.auths...)
}

// Recipients are the RCPT TO addresses received so far.
func (s *Server) Recipients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rcpt...)
}
