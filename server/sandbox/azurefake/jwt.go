// Package azurefake holds in-process fakes of Microsoft Entra ID and of the
// Microsoft commercial marketplace SaaS Fulfillment v2, Operations and
// Metering APIs. They follow the real wire contracts of
// microsoft-marketplace.md (not the emulator deviations of its §8), so the
// production clients and verifiers run against them unchanged.
package azurefake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// MarketplaceResource is the app id of the marketplace API (reference §1):
// the audience of API tokens and the azp/appid of webhook tokens.
const MarketplaceResource = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7"

var b64 = base64.RawURLEncoding

// signingKey is one RSA-2048 key with a self-signed certificate; its kid is
// the certificate thumbprint (x5t), as Entra does.
type signingKey struct {
	kid  string
	key  *rsa.PrivateKey
	cert []byte // DER
}

func newSigningKey(now time.Time) *signingKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("azurefake: rsa key: " + err.Error())
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net (sandbox)"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic("azurefake: certificate: " + err.Error())
	}
	sum := sha1.Sum(der)
	return &signingKey{kid: b64.EncodeToString(sum[:]), key: key, cert: der}
}

// jwk renders the public key as Entra's JWKS lists it.
func (k *signingKey) jwk(issuer string) map[string]any {
	pub := k.key.PublicKey
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "x5t": k.kid,
		"n": b64.EncodeToString(pub.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c": []string{base64.StdEncoding.EncodeToString(k.cert)}, "issuer": issuer,
	}
}

// sign makes a compact RS256 JWT with the key's kid in the header.
func (k *signingKey) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": k.kid, "x5t": k.kid})
	c, _ := json.Marshal(claims)
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
	if err != nil {
		panic("azurefake: sign: " + err.Error())
	}
	return input + "." + b64.EncodeToString(sig)
}

// verifyJWT checks an RS256 signature against the given keys (by kid, or
// every key when the header has none) and returns the claims.
func verifyJWT(token string, keys []*signingKey) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("malformed token")
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("malformed token header")
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, errors.New("malformed token header")
	}
	if h.Alg != "RS256" {
		return nil, fmt.Errorf("unsupported alg %q", h.Alg)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("malformed signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	ok := false
	for _, k := range keys {
		if h.Kid != "" && h.Kid != k.kid {
			continue
		}
		if rsa.VerifyPKCS1v15(&k.key.PublicKey, crypto.SHA256, sum[:], sig) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return nil, errors.New("invalid signature")
	}
	cb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("malformed claims")
	}
	d := json.NewDecoder(strings.NewReader(string(cb)))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		return nil, errors.New("malformed claims")
	}
	return claims, nil
}

func claimString(c map[string]any, name string) string {
	s, _ := c[name].(string)
	return s
}

func claimTime(c map[string]any, name string) (time.Time, bool) {
	n, ok := c[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// newGUID returns a random version-4 UUID.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatGUID(b)
}

// stableGUID derives a UUID from a string, so that repeated sign-ins of one
// identity keep their ids.
func stableGUID(s string) string {
	sum := sha256.Sum256([]byte(s))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatGUID(b)
}

func formatGUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
