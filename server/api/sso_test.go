package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// oidcProvider is a small OpenID Connect provider following the spec
// (Core 1.0 and Discovery 1.0, PKCE per RFC 7636): discovery, JWKS, an
// authorization endpoint that signs in whoever the test says, and a token
// endpoint that checks the client secret, the redirect URI and the PKCE
// verifier before it issues an RS256 ID token carrying the nonce.
type oidcProvider struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	signWith *rsa.PrivateKey // a different key forges tokens
	mu       sync.Mutex
	next     map[string]any // claims of the next sign-in
	codes    map[string]oidcGrant
}

type oidcGrant struct {
	claims                        map[string]any
	nonce, challenge, redirectURI string
}

const (
	oidcClientID     = "marketgate-portal"
	oidcClientSecret = "s3cret-of-the-client"
)

func newOIDCProvider(t *testing.T) *oidcProvider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &oidcProvider{key: key, signWith: key, codes: map[string]oidcGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/keys",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		writeJSON(w, map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != oidcClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
			!strings.Contains(q.Get("scope"), "openid") || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", 400)
			return
		}
		p.mu.Lock()
		code := auth.RandomToken(16)
		p.codes[code] = oidcGrant{claims: p.next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
		p.mu.Unlock()
		to, _ := url.Parse(q.Get("redirect_uri"))
		to.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		p.mu.Lock()
		g, found := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code")) // codes work once
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		switch {
		case id != oidcClientID || secret != oidcClientSecret:
			w.WriteHeader(401)
			writeJSON(w, map[string]string{"error": "invalid_client"})
			return
		case !found || r.PostFormValue("redirect_uri") != g.redirectURI || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			w.WriteHeader(400)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		claims := jwt.MapClaims{"iss": p.srv.URL, "aud": oidcClientID, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": g.nonce}
		for k, v := range g.claims {
			claims[k] = v
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "k1"
		signed, err := tok.SignedString(p.signWith)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		writeJSON(w, map[string]any{"access_token": "at-" + auth.RandomToken(8), "token_type": "Bearer", "expires_in": 3600, "id_token": signed})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// signIn runs the browser's part of the flow: Marketgate → provider →
// Marketgate's callback. It returns the callback's answer and the browser.
func (p *oidcProvider) signIn(t *testing.T, e *env, claims map[string]any) (*httptest.ResponseRecorder, *browser) {
	t.Helper()
	p.mu.Lock()
	p.next = claims
	p.mu.Unlock()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/sso?next=/subscriptions", nil))
	if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), p.srv.URL+"/authorize?") {
		t.Fatalf("start: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	var stateCookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "marketgate_sso" {
			stateCookie = c
		}
	}
	if stateCookie == nil || !stateCookie.HttpOnly || stateCookie.Path != "/auth/sso" {
		t.Fatalf("state cookie: %+v", stateCookie)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || back.Path != "/auth/sso/callback" {
		t.Fatalf("provider: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	req := httptest.NewRequest(http.MethodGet, back.RequestURI(), nil)
	req.AddCookie(stateCookie)
	out := httptest.NewRecorder()
	e.h.ServeHTTP(out, req)
	b := &browser{e: e}
	for _, c := range out.Result().Cookies() {
		if c.Name == api.SessionCookie && c.MaxAge >= 0 {
			b.cookie = c.Name + "=" + c.Value
		}
	}
	return out, b
}

func ssoEnv(t *testing.T, st *store.Store, p *oidcProvider) *env {
	return newEnvWith(t, st, func(d *api.Deps) {
		d.SSO = &auth.SSO{Issuer: p.srv.URL, ClientID: oidcClientID, ClientSecret: oidcClientSecret,
			RedirectURL: "http://portal.test/auth/sso/callback", RoleClaim: "groups", Name: "Okta", HTTP: p.srv.Client(),
			RoleMap: map[string]string{"mg-admins": "admin", "mg-ops": "operator", "everyone": "viewer"}}
		d.SSOStateKey = []byte(strings.Repeat("k", 64))
	})
}

type ssoMe struct {
	ID    uint
	Email string
	Role  string
	SSO   bool `json:"sso"`
}

func meOf(t *testing.T, b *browser) ssoMe {
	t.Helper()
	var v struct{ User *ssoMe }
	b.get("/api/auth/me").json(t, &v)
	if v.User == nil {
		t.Fatal("not signed in")
	}
	return *v.User
}

func loginError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || loc == nil || loc.Path != "/login" || loc.Query().Get("error") == "" {
		t.Fatalf("want a redirect to the login page with a reason, got %d %q", rec.Code, rec.Header().Get("Location"))
	}
	return loc.Query().Get("error")
}

// Issue 15, "What seller staff expect": single sign-on over OpenID Connect
// with a mapping from the provider's groups to Marketgate's roles and
// just-in-time accounts; password accounts stay possible.
func TestSingleSignOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newOIDCProvider(t)
		e := ssoEnv(t, st, p)
		e.user("password@seller.com", store.RoleViewer, nil)

		var opts struct {
			SSO *struct{ Name, URL string } `json:"sso"`
		}
		(&browser{e: e}).get("/api/auth/options").json(t, &opts)
		if opts.SSO == nil || opts.SSO.Name != "Okta" || opts.SSO.URL != "/auth/sso" {
			t.Fatalf("auth options: %+v", opts.SSO)
		}

		// First sign-in: the account is created with the mapped role (the
		// highest of the groups), and the browser lands where it was going.
		alice := map[string]any{"sub": "00u-alice", "email": "Alice@Seller.com", "email_verified": true, "name": "Alice",
			"groups": []string{"everyone", "mg-admins"}}
		rec, b := p.signIn(t, e, alice)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/subscriptions" {
			t.Fatalf("callback: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
		}
		me := meOf(t, b)
		if me.Email != "alice@seller.com" || me.Role != store.RoleAdmin || !me.SSO {
			t.Fatalf("me: %+v", me)
		}
		if r := b.get("/api/users"); r.code != 200 {
			t.Fatalf("admin by SSO: %d", r.code)
		}
		if n := len(auditRows(t, st, "user.created_sso")); n != 1 {
			t.Fatalf("user.created_sso rows: %d", n)
		}

		// Next sign-in: the same account, its role following the groups.
		alice["groups"] = []string{"mg-ops"}
		alice["email"] = "alice.renamed@seller.com"
		_, b = p.signIn(t, e, alice)
		again := meOf(t, b)
		if again.ID != me.ID || again.Role != store.RoleOperator {
			t.Fatalf("second sign-in: %+v (first %+v)", again, me)
		}
		if n := len(auditRows(t, st, "user.role_synced")); n != 1 {
			t.Fatalf("user.role_synced rows: %d", n)
		}

		// Groups that map to no role: refused, no account.
		rec, _ = p.signIn(t, e, map[string]any{"sub": "00u-bob", "email": "bob@seller.com", "email_verified": true, "groups": []string{"sales"}})
		if msg := loginError(t, rec); !strings.Contains(msg, "not in a group") {
			t.Fatalf("refusal: %q", msg)
		}
		if _, err := st.UserByEmail(t.Context(), "bob@seller.com"); err != store.ErrNotFound {
			t.Fatalf("bob: %v", err)
		}
		// No groups claim at all: refused too.
		rec, _ = p.signIn(t, e, map[string]any{"sub": "00u-carol", "email": "carol@seller.com", "email_verified": true})
		loginError(t, rec)

		// An existing password account: linked on a verified address only.
		rec, _ = p.signIn(t, e, map[string]any{"sub": "00u-pw", "email": "password@seller.com", "email_verified": false, "groups": []string{"everyone"}})
		if msg := loginError(t, rec); !strings.Contains(msg, "already exists") {
			t.Fatalf("unverified link: %q", msg)
		}
		_, b = p.signIn(t, e, map[string]any{"sub": "00u-pw", "email": "password@seller.com", "email_verified": true, "groups": []string{"everyone"}})
		if u := meOf(t, b); u.Email != "password@seller.com" || !u.SSO {
			t.Fatalf("linked: %+v", u)
		}
		// Password accounts still sign in with the password.
		e.login("password@seller.com")
		// Once bound, the subject decides, not the e-mail: another identity
		// of the provider with the same e-mail is refused.
		rec, _ = p.signIn(t, e, map[string]any{"sub": "00u-impostor", "email": "password@seller.com", "email_verified": true, "groups": []string{"mg-admins"}})
		loginError(t, rec)

		// A token signed with another key is refused.
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		p.signWith = other
		rec, _ = p.signIn(t, e, alice)
		if msg := loginError(t, rec); !strings.Contains(msg, "could not be confirmed") {
			t.Fatalf("forged token: %q", msg)
		}
		p.signWith = p.key

		// A callback without the browser's state cookie is refused.
		out := httptest.NewRecorder()
		e.h.ServeHTTP(out, httptest.NewRequest(http.MethodGet, "/auth/sso/callback?code=x&state=y", nil))
		loginError(t, out)

		// Sign-ins and refusals are in the audit log with the client address.
		methods := 0
		for _, r := range auditRows(t, st, "auth.login") {
			if r.After == `{"method":"sso"}` {
				methods++
			}
		}
		if methods != 3 {
			t.Fatalf("SSO sign-ins audited: %d, want 3", methods)
		}
		if n := len(auditRows(t, st, "auth.login_failed")); n != 5 {
			t.Fatalf("refused SSO sign-ins audited: %d, want 5", n)
		}
	})
}

// Issue 15, finding 4: "Unauthenticated endpoints store only bounded,
// useful data, are rate-limited per client". A state cookie can be
// replayed until it expires and every refused callback writes an audit
// row, so the callback (and the start) have a per-client allowance.
func TestSingleSignOnRateLimitedPerClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newOIDCProvider(t)
		e := ssoEnv(t, st, p)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/sso", nil))
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusFound || err != nil {
			t.Fatalf("start: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		var stateCookie *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == "marketgate_sso" {
				stateCookie = c
			}
		}
		callback := func(ip string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/auth/sso/callback?error=access_denied&state="+url.QueryEscape(loc.Query().Get("state")), nil)
			req.RemoteAddr = ip + ":40000"
			req.AddCookie(stateCookie)
			out := httptest.NewRecorder()
			e.h.ServeHTTP(out, req)
			return out
		}
		for i := 0; i < 30; i++ {
			loginError(t, callback("198.51.100.40"))
		}
		if out := callback("198.51.100.40"); out.Code != http.StatusTooManyRequests || out.Header().Get("Retry-After") == "" {
			t.Fatalf("callback over the allowance: %d", out.Code)
		}
		if n := len(auditRows(t, st, "auth.login_failed")); n != 30 {
			t.Fatalf("refused callbacks audited: %d, want 30 (none past the allowance)", n)
		}
		loginError(t, callback("198.51.100.41")) // another client is not affected

		for i := 1; i < 30; i++ { // the start's own allowance (one used above)
			start := httptest.NewRecorder()
			e.h.ServeHTTP(start, httptest.NewRequest(http.MethodGet, "/auth/sso", nil))
			if start.Code != http.StatusFound {
				t.Fatalf("start #%d: %d", i, start.Code)
			}
		}
		start := httptest.NewRecorder()
		e.h.ServeHTTP(start, httptest.NewRequest(http.MethodGet, "/auth/sso", nil))
		if start.Code != http.StatusTooManyRequests {
			t.Fatalf("start over the allowance: %d", start.Code)
		}
	})
}
