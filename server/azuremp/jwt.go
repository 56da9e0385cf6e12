package azuremp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ErrUnauthenticated wraps every reason a token is refused.
var ErrUnauthenticated = errors.New("token refused")

// skew is the clock difference allowed for nbf and iat (go-oidc's own
// allowance for nbf, as Microsoft's libraries do).
const skew = 5 * time.Minute

// KeySet is Entra's signing keys from one JWKS URL, held by go-oidc's
// RemoteKeySet: cached, fetched again when a token names a key id it does
// not hold (so a key rotation is picked up without a restart), concurrent
// fetches merged into one. The keys are fetched at most once per
// MinRefresh: between two fetches a token the cached keys do not verify
// (a made-up key id, a forged signature) is refused without calling Entra.
type KeySet struct {
	// URL returns the JWKS URL (it may read an OpenID configuration first).
	URL        func(ctx context.Context) (string, error)
	HTTP       *http.Client
	MinRefresh time.Duration // default 10 seconds

	mu      sync.Mutex
	remote  *oidc.RemoteKeySet
	fetched time.Time // the last fetch of the keys
}

var _ oidc.KeySet = (*KeySet)(nil)

// errTooSoon: the keys were fetched less than MinRefresh ago.
var errTooSoon = errors.New("signing keys fetched moments ago; not fetched again yet")

// VerifySignature checks a compact JWS (RS256 only) and returns its
// payload; it is what go-oidc's verifier calls.
func (k *KeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	remote, err := k.remoteSet(ctx)
	if err != nil {
		return nil, err
	}
	payload, err := remote.VerifySignature(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrUnauthenticated, err)
	}
	return payload, nil
}

func (k *KeySet) remoteSet(ctx context.Context) (*oidc.RemoteKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.remote == nil {
		u, err := k.URL(ctx)
		if err != nil {
			return nil, err
		}
		hc := *k.client()
		hc.Transport = gate{k: k, next: cmp.Or[http.RoundTripper](hc.Transport, http.DefaultTransport)}
		k.remote = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), &hc), u)
	}
	return k.remote, nil
}

// gate lets the remote key set fetch the keys at most once per MinRefresh.
type gate struct {
	k    *KeySet
	next http.RoundTripper
}

func (g gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.k.mu.Lock()
	if !g.k.fetched.IsZero() && time.Since(g.k.fetched) < cmp.Or(g.k.MinRefresh, 10*time.Second) {
		g.k.mu.Unlock()
		return nil, errTooSoon
	}
	g.k.fetched = time.Now()
	g.k.mu.Unlock()
	return g.next.RoundTrip(r)
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

// claims are a verified token's claims.
type claims map[string]any

// parse verifies a token with go-oidc (signature by the key set, RS256
// only, exp required and passed, nbf within 5 minutes of skew), then what
// go-oidc leaves to the caller: nbf present, iat not in the future. The
// audience, issuer and tenant are the caller's to check.
func parse(ctx context.Context, keys *KeySet, raw string) (claims, error) {
	v := oidc.NewVerifier("", keys, &oidc.Config{SkipClientIDCheck: true, SkipIssuerCheck: true, SupportedSigningAlgs: []string{oidc.RS256}})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	var c claims
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrUnauthenticated, err)
	}
	if _, ok := c["nbf"].(float64); !ok {
		return nil, fmt.Errorf("%w: no nbf", ErrUnauthenticated)
	}
	if iat, ok := c["iat"]; ok {
		n, isNum := iat.(float64)
		if !isNum || time.Unix(int64(n), 0).After(time.Now().Add(skew)) {
			return nil, fmt.Errorf("%w: issued in the future", ErrUnauthenticated)
		}
	}
	return c, nil
}

func claim(c claims, names ...string) string {
	for _, n := range names {
		if s, ok := c[n].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func audience(c claims) []string {
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
