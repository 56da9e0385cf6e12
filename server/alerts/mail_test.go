package alerts_test

import (
	"context"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/smtptest"
)

// TestMailTLSAndAuth: the mail library keeps what net/smtp did — STARTTLS
// whenever the server offers it, with its certificate checked; the
// password sent only over TLS or to a server on this machine.
func TestMailTLSAndAuth(t *testing.T) {
	cases := []struct {
		name      string
		opts      smtptest.Options
		user      string
		trust     bool
		wantErr   string
		wantAuth  bool
		wantTLSed bool
	}{
		{name: "STARTTLS offered and trusted, password over TLS", opts: smtptest.Options{StartTLS: true, Auth: true}, user: "alerts", trust: true, wantAuth: true, wantTLSed: true},
		{name: "STARTTLS offered, no user name: no AUTH", opts: smtptest.Options{StartTLS: true, Auth: true}, trust: true},
		{name: "STARTTLS with an untrusted certificate is refused, not skipped", opts: smtptest.Options{StartTLS: true, Auth: true}, user: "alerts", wantErr: "certificate"},
		{name: "no TLS on another host: the password is not sent", opts: smtptest.Options{Host: "127.0.0.2", Auth: true}, user: "alerts", wantErr: "unencrypted"},
		{name: "no TLS on this machine (127.0.0.1): allowed as before", opts: smtptest.Options{Auth: true}, user: "alerts", wantAuth: true},
		{name: "a user name but no AUTH offered", opts: smtptest.Options{}, user: "alerts", wantErr: "AUTH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartWith(t, tc.opts)
			cfg := &alerts.SMTP{Addr: srv.Addr, From: "Marketgate <alerts@seller.example>", Username: tc.user, Password: "s3cret"}
			if tc.trust {
				cfg.RootCAs = srv.Roots
			}
			svc := &alerts.Service{SMTP: cfg}
			err := svc.SendMail(context.Background(), "ops@seller.example", "Test", "body")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one about %q", err, tc.wantErr)
				}
				if len(srv.Messages()) != 0 || len(srv.Auths()) != 0 {
					t.Fatalf("refused, yet sent: %q %v", srv.Messages(), srv.Auths())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(srv.Messages()) != 1 {
				t.Fatalf("messages: %q", srv.Messages())
			}
			a := srv.Auths()
			if !tc.wantAuth {
				if len(a) != 0 {
					t.Fatalf("authenticated without a user name: %v", a)
				}
				return
			}
			if len(a) != 1 || a[0].Username != "alerts" || a[0].Password != "s3cret" || a[0].TLS != tc.wantTLSed {
				t.Fatalf("auth: %+v", a)
			}
		})
	}
}

// TestMailMessage: the message's headers and its 8-bit UTF-8 text, and a
// Japanese subject as an RFC 2047 encoded word.
func TestMailMessage(t *testing.T) {
	srv := smtptest.Start(t)
	svc := &alerts.Service{SMTP: &alerts.SMTP{Addr: srv.Addr, From: "Marketgate <alerts@seller.example>"}}
	if err := svc.SendMail(context.Background(), "hanako@tokyo.example", "メールアドレスの確認", "佐藤花子 様\nhttps://portal.example/verify?token=abc_DEF-1"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages: %q", msgs)
	}
	m := msgs[0]
	parsed, err := mail.ReadMessage(strings.NewReader(m))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	raw := parsed.Header.Get("Subject")
	subject, err := dec.DecodeHeader(raw)
	if err != nil || subject != "メールアドレスの確認" || !strings.HasPrefix(strings.ToLower(raw), "=?utf-8?") {
		t.Fatalf("subject %q → %q (%v)", raw, subject, err)
	}
	h := parsed.Header
	if h.Get("From") != `"Marketgate" <alerts@seller.example>` || h.Get("To") != "<hanako@tokyo.example>" || h.Get("Message-ID") == "" ||
		h.Get("Content-Type") != "text/plain; charset=UTF-8" || h.Get("Content-Transfer-Encoding") != "8bit" {
		t.Fatalf("headers: %v", h)
	}
	if d, err := h.Date(); err != nil || d.IsZero() {
		t.Fatalf("Date: %v", err)
	}
	if !strings.Contains(m, "佐藤花子 様\r\nhttps://portal.example/verify?token=abc_DEF-1\r\n") {
		t.Fatalf("body not 8-bit UTF-8 with CRLF lines: %q", m)
	}
	if r := srv.Recipients(); len(r) != 1 || !strings.Contains(r[0], "<hanako@tokyo.example>") {
		t.Fatalf("RCPT: %v", r)
	}
}
