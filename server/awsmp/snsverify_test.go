package awsmp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

const certURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"

// snsSigner signs envelopes as SNS does, with a throw-away certificate
// served for certURL by an in-memory transport (no network).
type snsSigner struct {
	key     *rsa.PrivateKey
	pem     []byte
	fetches atomic.Int32
	down    atomic.Bool
}

func newSNSSigner(t *testing.T, notAfter time.Time) *snsSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &snsSigner{key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (s *snsSigner) RoundTrip(r *http.Request) (*http.Response, error) {
	s.fetches.Add(1)
	if s.down.Load() {
		return &http.Response{StatusCode: 503, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
	if r.URL.String() != certURL {
		return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(s.pem))), Request: r}, nil
}

func (s *snsSigner) verifier(topics ...string) *awsmp.SNSVerifier {
	return &awsmp.SNSVerifier{TopicARNs: topics, HTTP: &http.Client{Transport: s}}
}

// sign returns an SNS envelope for msg, signed with version 1 or 2.
func (s *snsSigner) sign(t *testing.T, version string, fields map[string]string) string {
	t.Helper()
	env := map[string]string{"Type": "Notification", "MessageId": "m-" + version, "Timestamp": "2026-06-02T09:14:03.512Z",
		"TopicArn":         "arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prod-legacy",
		"Message":          `{"action":"subscribe-success","customer-identifier":"XSIGNED","product-code":"prod-legacy"}`,
		"SignatureVersion": version, "SigningCertURL": certURL}
	for k, v := range fields {
		env[k] = v
	}
	var b strings.Builder
	for _, k := range []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"} {
		if v, ok := env[k]; ok {
			b.WriteString(k + "\n" + v + "\n")
		}
	}
	var sig []byte
	var err error
	if version == "1" {
		d := sha1.Sum([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	env["Signature"] = base64.StdEncoding.EncodeToString(sig)
	out, _ := json.Marshal(env)
	return string(out)
}

func TestSNSSignatureVerification(t *testing.T) {
	ctx := context.Background()
	s := newSNSSigner(t, time.Now().Add(365*24*time.Hour))
	v := s.verifier()
	edit := func(body string, k, val string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		if val == "<delete>" {
			delete(m, k)
		} else {
			m[k] = val
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	good1, good2 := s.sign(t, "1", nil), s.sign(t, "2", nil)
	withSubject := s.sign(t, "2", map[string]string{"Subject": "hello"})
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"version 1 (SHA1)", good1, true},
		{"version 2 (SHA256)", good2, true},
		{"with a subject", withSubject, true},
		{"subject removed", edit(withSubject, "Subject", "<delete>"), false},
		{"message changed", edit(good2, "Message", `{"action":"unsubscribe-success","customer-identifier":"XSIGNED","product-code":"prod-legacy"}`), false},
		{"message id changed", edit(good1, "MessageId", "m-other"), false},
		{"unknown version", edit(good1, "SignatureVersion", "3"), false},
		{"no signature", edit(good1, "Signature", "<delete>"), false},
		{"signature not base64", edit(good1, "Signature", "%%%"), false},
		{"certificate over http", edit(good1, "SigningCertURL", strings.Replace(certURL, "https:", "http:", 1)), false},
		{"certificate elsewhere", edit(good1, "SigningCertURL", "https://attacker.example/SimpleNotificationService.pem"), false},
		{"look-alike host", edit(good1, "SigningCertURL", "https://sns.us-east-1.amazonaws.com.attacker.example/x.pem"), false},
		{"host with a port", edit(good1, "SigningCertURL", "https://sns.us-east-1.amazonaws.com:8443/x.pem"), false},
		{"subscription confirmation", edit(good1, "Type", "SubscriptionConfirmation"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.Verify(ctx, c.body)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, awsmp.ErrSignature)) {
				t.Fatalf("Verify = %v, want ok=%v (and ErrSignature on failure)", err, c.ok)
			}
		})
	}
	// The certificate was fetched once and then cached; bad URLs were never fetched.
	if n := s.fetches.Load(); n != 1 {
		t.Fatalf("certificate fetched %d times", n)
	}
	// Topic allow-list.
	if err := s.verifier("arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-other").Verify(ctx, good1); !errors.Is(err, awsmp.ErrSignature) {
		t.Fatalf("topic off the list: %v", err)
	}
	if err := s.verifier("arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prod-legacy").Verify(ctx, good1); err != nil {
		t.Fatalf("topic on the list: %v", err)
	}
	// SNS unreachable: not a verdict on the message, try again later.
	s.down.Store(true)
	if err := s.verifier().Verify(ctx, good1); err == nil || errors.Is(err, awsmp.ErrSignature) {
		t.Fatalf("certificate unavailable: %v", err)
	}
	// An expired certificate is refused.
	old := newSNSSigner(t, time.Now().Add(-time.Minute))
	if err := old.verifier().Verify(ctx, old.sign(t, "1", nil)); !errors.Is(err, awsmp.ErrSignature) {
		t.Fatalf("expired certificate: %v", err)
	}
}

// With verification on, a signed notification is applied, a forged one is
// kept as failed (never applied, never retried), and raw messages, which
// carry no signature, are refused.
func TestProcessorVerifiesSNS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newSNSSigner(t, time.Now().Add(time.Hour))
		p := processor(st)
		p.SNS = s.verifier()
		good := s.sign(t, "2", nil)
		var env map[string]any
		_ = json.Unmarshal([]byte(good), &env)
		env["MessageId"] = "m-forged"
		env["Message"] = `{"action":"subscribe-success","customer-identifier":"XFORGED","product-code":"prod-legacy"}`
		forged, _ := json.Marshal(env)
		for i, body := range []string{good, string(forged), `{"action":"subscribe-success","customer-identifier":"XRAW","product-code":"prod-legacy"}`} {
			if err := p.Receive(ctx, body, "sqs-"+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		var subs []store.Subscription
		st.TestingReadDB(t).Find(&subs)
		if len(subs) != 1 || subs[0].AWSCustomerIdentifier != "XSIGNED" || subs[0].State != "active" {
			t.Fatalf("subscriptions: %+v", subs)
		}
		var msgs []store.InboxMessage
		st.TestingReadDB(t).Order("id").Find(&msgs)
		if len(msgs) != 3 || msgs[0].Status != store.InboxProcessed {
			t.Fatalf("inbox: %+v", msgs)
		}
		for _, m := range msgs[1:] {
			if m.Status != store.InboxFailed || m.NextAttemptAt != nil || !strings.Contains(m.Error, "signature") {
				t.Fatalf("refused message: %+v", m)
			}
		}
	})
}
