package azuremp

import (
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrUnauthenticated wraps every reason a token is refused.
var ErrUnauthenticated = errors.New("token refused")

// KeySet is Entra's signing keys from one JWKS URL, cached; an unknown key
// id fetches them again (at most once per MinRefresh), so a key rotation
// is picked up without a restart.
type KeySet struct {
	// URL returns the JWKS URL (it may read an OpenID configuration first).
	URL        func(ctx context.Context) (string, error)
	HTTP       *http.Client
	MinRefresh time.Duration // default 10 seconds

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// Key returns the key with the id, fetching the set when needed.
func (k *KeySet) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.keys[kid]; ok {
		return key, nil
	}
	min := k.MinRefresh
	if min == 0 {
		min = 10 * time.Second
	}
	if k.keys != nil && time.Since(k.fetched) < min {
		return nil, fmt.Errorf("%w: unknown signing key %q", ErrUnauthenticated, kid)
	}
	keys, err := k.fetch(ctx)
	if err != nil {
		return nil, err
	}
	k.keys, k.fetched = keys, time.Now()
	if key, ok := keys[kid]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("%w: unknown signing key %q", ErrUnauthenticated, kid)
}

func (k *KeySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	u, err := k.URL(ctx)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := getJSON(ctx, k.client(), u, &set); err != nil {
		return nil, fmt.Errorf("entra signing keys: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, j := range set.Keys {
		if j.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(j.N)
		e, err2 := base64.RawURLEncoding.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		keys[j.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys, nil
}

func (k *KeySet) client() *http.Client {
	if k.HTTP != nil {
		return k.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// parse checks the signature (RS256 only), exp, nbf and iat (5 minutes of skew)
// and returns the claims.
func parse(ctx context.Context, keys *KeySet, raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return keys.Key(ctx, kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithLeeway(5*time.Minute), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if _, ok := claims["nbf"]; !ok {
		return nil, fmt.Errorf("%w: no nbf", ErrUnauthenticated)
	}
	return claims, nil
}

func claim(c jwt.MapClaims, names ...string) string {
	for _, n := range names {
		if s, ok := c[n].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func audience(c jwt.MapClaims) []string {
	switch a := c["aud"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// NotificationVerifier authenticates the marketplace's notifications (its
// webhook calls, in Microsoft's words): an Entra
// token for our app, from our tenant, issued to the marketplace.
type NotificationVerifier struct {
	TenantID, ClientID string
	LoginURL           string
	Keys               *KeySet
}

// NewNotificationVerifier reads the signing keys from the publisher tenant's
// OpenID configuration.
func NewNotificationVerifier(tenantID, clientID, loginURL string, hc *http.Client) *NotificationVerifier {
	loginURL = strings.TrimRight(cmp.Or(loginURL, DefaultLoginURL), "/")
	ks := &KeySet{HTTP: hc}
	ks.URL = func(ctx context.Context) (string, error) {
		var conf struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := getJSON(ctx, ks.client(), loginURL+"/"+tenantID+"/v2.0/.well-known/openid-configuration", &conf); err != nil {
			return "", fmt.Errorf("entra openid configuration: %w", err)
		}
		if conf.JWKSURI == "" {
			return "", errors.New("entra openid configuration names no jwks_uri")
		}
		return conf.JWKSURI, nil
	}
	return &NotificationVerifier{TenantID: tenantID, ClientID: clientID, LoginURL: loginURL, Keys: ks}
}

// Verify checks an Authorization header. Any failure wraps ErrUnauthenticated.
func (v *NotificationVerifier) Verify(ctx context.Context, authorization string) error {
	raw, ok := strings.CutPrefix(strings.TrimSpace(authorization), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	c, err := parse(ctx, v.Keys, strings.TrimSpace(raw))
	if err != nil {
		return err
	}
	okAud := false
	for _, a := range audience(c) {
		okAud = okAud || a == v.ClientID || a == "api://"+v.ClientID
	}
	if !okAud {
		return fmt.Errorf("%w: audience %v is not this app", ErrUnauthenticated, audience(c))
	}
	tid := claim(c, "tid", "http://schemas.microsoft.com/identity/claims/tenantid")
	if !strings.EqualFold(tid, v.TenantID) {
		return fmt.Errorf("%w: tenant %q is not the publisher's", ErrUnauthenticated, tid)
	}
	if app := claim(c, "appid", "azp"); app != Resource {
		return fmt.Errorf("%w: issued to %q, not the marketplace", ErrUnauthenticated, app)
	}
	iss := claim(c, "iss")
	if iss != "https://sts.windows.net/"+tid+"/" && iss != v.LoginURL+"/"+tid+"/v2.0" && iss != DefaultLoginURL+"/"+tid+"/v2.0" {
		return fmt.Errorf("%w: issuer %q", ErrUnauthenticated, iss)
	}
	return nil
}

// Identity is a buyer who signed in with Entra.
type Identity struct {
	TenantID string `json:"tenant_id"`
	ObjectID string `json:"object_id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	// Organization is the signed-in user's organisation as Microsoft
	// Graph names it (GET /organization, displayName); "" when unknown.
	Organization string `json:"organization,omitempty"`
}

// IDTokenVerifier checks the id_token of a (multi-tenant) sign-in.
type IDTokenVerifier struct {
	ClientID string
	LoginURL string
	Keys     *KeySet
}

// NewIDTokenVerifier reads the signing keys common to every tenant.
func NewIDTokenVerifier(clientID, loginURL string, hc *http.Client) *IDTokenVerifier {
	loginURL = strings.TrimRight(cmp.Or(loginURL, DefaultLoginURL), "/")
	ks := &KeySet{HTTP: hc}
	ks.URL = func(context.Context) (string, error) { return loginURL + "/common/discovery/v2.0/keys", nil }
	return &IDTokenVerifier{ClientID: clientID, LoginURL: loginURL, Keys: ks}
}

// Verify checks an id_token: signature, expiry, audience, the issuer of the
// token's own tenant, and the nonce of this sign-in.
func (v *IDTokenVerifier) Verify(ctx context.Context, raw, nonce string) (Identity, error) {
	c, err := parse(ctx, v.Keys, raw)
	if err != nil {
		return Identity{}, err
	}
	okAud := false
	for _, a := range audience(c) {
		okAud = okAud || a == v.ClientID
	}
	if !okAud {
		return Identity{}, fmt.Errorf("%w: audience is not this app", ErrUnauthenticated)
	}
	tid := claim(c, "tid")
	if tid == "" || claim(c, "iss") != v.LoginURL+"/"+tid+"/v2.0" {
		return Identity{}, fmt.Errorf("%w: issuer %q does not match tenant %q", ErrUnauthenticated, claim(c, "iss"), tid)
	}
	if nonce == "" || claim(c, "nonce") != nonce {
		return Identity{}, fmt.Errorf("%w: nonce mismatch", ErrUnauthenticated)
	}
	return Identity{TenantID: tid, ObjectID: claim(c, "oid", "sub"), Name: claim(c, "name"),
		Email: strings.ToLower(claim(c, "email", "preferred_username", "upn"))}, nil
}
