package awsmp

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" // SNS SignatureVersion 1 is SHA1withRSA
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// SNS signature verification. Reading from SQS, the queue policy is the
// trust boundary and AWS needs no signature check; a seller who wants one
// anyway (a shared queue, defence in depth) turns it on. Then every SNS
// envelope must carry a valid signature from a certificate served by SNS
// itself over https, and, when an allow-list is set, come from one of the
// listed topics. EventBridge events carry no signature and are not affected.

// ErrSignature marks an SNS message that fails verification: it is kept in
// the inbox as failed and never applied or retried.
var ErrSignature = errors.New("SNS signature verification failed")

// SNSVerifier checks SNS envelopes. Safe for concurrent use.
type SNSVerifier struct {
	// TopicARNs, when not empty, are the only topics accepted.
	TopicARNs []string
	// HTTP fetches signing certificates (nil: a client with a 10 s timeout).
	HTTP *http.Client
	// Now is the clock for the certificate's validity (nil: time.Now).
	Now func() time.Time

	mu    sync.Mutex
	certs map[string]cachedCert
}

type cachedCert struct {
	cert    *x509.Certificate
	fetched time.Time
}

// certHost is where SNS serves its signing certificates: sns.<region>.amazonaws.com
// (and .com.cn in China).
var certHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// certTTL bounds how long a fetched certificate is reused.
const certTTL = 24 * time.Hour

// Verify checks one SQS body that is an SNS envelope. It returns an error
// wrapping ErrSignature for a message that must not be trusted, and another
// error when the certificate could not be fetched (try again later).
func (v *SNSVerifier) Verify(ctx context.Context, body string) error {
	var env signedEnvelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		return fmt.Errorf("%w: not JSON", ErrSignature)
	}
	if err := v.checkEnvelope(env); err != nil {
		return err
	}
	hash, err := snsSignatureHash(env.get("SignatureVersion"))
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(env.get("Signature"))
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: Signature is missing or not base64", ErrSignature)
	}
	pub, err := v.signingKey(ctx, env.get("SigningCertURL"))
	if err != nil {
		return err
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, snsDigest(hash, env.stringToSign()), sig); err != nil {
		return fmt.Errorf("%w: the signature does not match", ErrSignature)
	}
	return nil
}

// signedEnvelope is an SNS message as SQS delivers it.
type signedEnvelope map[string]any

// get answers a string member ("" when absent or not a string).
func (env signedEnvelope) get(k string) string { s, _ := env[k].(string); return s }

// checkEnvelope accepts only Notification messages from an allowed topic
// (when an allow-list is set) whose Message is a string.
func (v *SNSVerifier) checkEnvelope(env signedEnvelope) error {
	if env.get("Type") != "Notification" {
		return fmt.Errorf("%w: only Notification messages are accepted, not %q", ErrSignature, env.get("Type"))
	}
	if len(v.TopicARNs) > 0 && !slices.Contains(v.TopicARNs, env.get("TopicArn")) {
		return fmt.Errorf("%w: topic %q is not on the allow-list", ErrSignature, env.get("TopicArn"))
	}
	if _, isString := env["Message"].(string); !isString {
		return fmt.Errorf("%w: Message is not a string as SNS sends it", ErrSignature)
	}
	return nil
}

// snsSignatureHash is the hash of a SignatureVersion: SHA1 for 1, SHA256 for 2.
func snsSignatureHash(version string) (crypto.Hash, error) {
	switch version {
	case "1":
		return crypto.SHA1, nil
	case "2":
		return crypto.SHA256, nil
	}
	return 0, fmt.Errorf("%w: unknown SignatureVersion %q", ErrSignature, version)
}

// signingKey checks that certURL is an SNS certificate URL, fetches the
// certificate and answers its RSA key when it is valid now.
func (v *SNSVerifier) signingKey(ctx context.Context, certURL string) (*rsa.PublicKey, error) {
	u, err := url.Parse(certURL)
	if err != nil || u.Scheme != "https" || !certHost.MatchString(u.Hostname()) || u.Port() != "" || !strings.HasSuffix(u.Path, ".pem") {
		return nil, fmt.Errorf("%w: SigningCertURL %q is not an SNS certificate URL", ErrSignature, certURL)
	}
	cert, err := v.cert(ctx, u.String())
	if err != nil {
		return nil, err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if t := now(); t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		return nil, fmt.Errorf("%w: the signing certificate is not valid now", ErrSignature)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the signing certificate has no RSA key", ErrSignature)
	}
	return pub, nil
}

// stringToSign is the string SNS signs: these fields, in this order, each
// name and value on its own line; Subject only when present.
func (env signedEnvelope) stringToSign() string {
	var b strings.Builder
	for _, k := range []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"} {
		if _, present := env[k]; !present && k == "Subject" {
			continue
		}
		b.WriteString(k + "\n" + env.get(k) + "\n")
	}
	return b.String()
}

// snsDigest hashes s with SHA1 or SHA256.
func snsDigest(hash crypto.Hash, s string) []byte {
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(s))
		return d[:]
	}
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// cert returns the certificate at url, from the cache when fresh.
func (v *SNSVerifier) cert(ctx context.Context, url string) (*x509.Certificate, error) {
	v.mu.Lock()
	if c, ok := v.certs[url]; ok && time.Since(c.fetched) < certTTL {
		v.mu.Unlock()
		return c.cert, nil
	}
	v.mu.Unlock()
	client := v.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// Never follow a redirect away from the checked host.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the SNS signing certificate: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the SNS signing certificate: HTTP %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("fetching the SNS signing certificate: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: the signing certificate is not a PEM certificate", ErrSignature)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: the signing certificate does not parse: %v", ErrSignature, err)
	}
	v.mu.Lock()
	if v.certs == nil {
		v.certs = map[string]cachedCert{}
	}
	v.certs[url] = cachedCert{cert: cert, fetched: time.Now()}
	v.mu.Unlock()
	return cert, nil
}
