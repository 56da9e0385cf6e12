package azurefake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Entra fakes the parts of Microsoft Entra ID that Marketgate uses: OpenID
// discovery, JWKS, the v2 (and v1) token endpoint for client credentials and
// authorization codes, and an interactive sign-in page for buyers. Mount it
// at Base with http.StripPrefix. Safe for concurrent use.
type Entra struct {
	mu    sync.Mutex
	base  string
	now   func() time.Time
	keys  []*signingKey        // keys[0] signs; keys[1] is the previous key, still listed and accepted
	apps  map[string]string    // lower(tenant) + "|" + client id → secret
	codes map[string]*authCode // authorization codes, single use
	users []User               // one-click "known users" on the sign-in page
	stats map[string]int       // calls per endpoint
	// Admin consent and Microsoft Graph (adminconsent.go, graph.go).
	redirects map[string][]string // client id → registered redirect URIs (none: any absolute http(s) URL)
	consents  map[string][]string // lower(tenant) + "|" + client id → scopes an admin granted
	orgs      map[string]string   // lower(tenant) → the tenant's display name, as users signed in
	// App registrations as Microsoft Graph shows them (graphapps.go).
	applications map[string]*Application // client id → registration
}

// User is a buyer identity the sign-in page can log in as.
type User struct {
	Name, Email  string
	TenantID     string // the buyer's (beneficiary's) tenant
	ObjectID     string // empty: derived from tenant and e-mail
	Organization string // display name of the tenant
}

type authCode struct {
	clientID, redirectURI, nonce, scope string
	challenge, challengeMethod          string
	user                                User
	issued                              time.Time
}

// Lifetimes of what Entra issues.
const (
	TokenLifetime = time.Hour
	CodeLifetime  = 5 * time.Minute
)

// NewEntra returns a fake mounted at base (absolute URL, no trailing slash);
// now is its clock (nil: time.Now).
func NewEntra(base string, now func() time.Time) *Entra {
	if now == nil {
		now = time.Now
	}
	e := &Entra{base: strings.TrimRight(base, "/"), now: now, apps: map[string]string{}, codes: map[string]*authCode{},
		stats: map[string]int{}, redirects: map[string][]string{}, consents: map[string][]string{}, orgs: map[string]string{}}
	e.keys = []*signingKey{newSigningKey(now())}
	e.users = []User{
		{Name: "Megan Bowen", Email: "meganb@contoso.example", TenantID: stableGUID("tenant:contoso"), Organization: "Contoso"},
		{Name: "Alex Wilber", Email: "alexw@fabrikam.example", TenantID: stableGUID("tenant:fabrikam"), Organization: "Fabrikam"},
	}
	return e
}

// Base is the URL the fake is mounted at.
func (e *Entra) Base() string { return e.base }

// Issuer is the v2 issuer of a tenant's tokens: {base}/{tenant}/v2.0.
func (e *Entra) Issuer(tenant string) string { return e.base + "/" + tenant + "/v2.0" }

// RegisterApp registers an app registration's client secret in a tenant.
// Client-credentials tokens are issued only for registered apps; an
// authorization code is redeemed with the secret of any tenant's registration
// of the client id (a multi-tenant app).
func (e *Entra) RegisterApp(tenant, clientID, secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.apps[strings.ToLower(tenant)+"|"+clientID] = secret
}

// AddUser adds a one-click identity to the sign-in page (first in the list).
func (e *Entra) AddUser(u User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users = append([]User{u}, e.users...)
}

// Calls reports how many requests an endpoint ("token", "authorize",
// "keys", "openid-configuration") received.
func (e *Entra) Calls(endpoint string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats[endpoint]
}

// RotateKey makes a new signing key current; the previous one stays in the
// JWKS and is still accepted, older ones are dropped.
func (e *Entra) RotateKey() {
	k := newSigningKey(e.now())
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = []*signingKey{k, e.keys[0]}
}

// Sign signs arbitrary claims with the current key (RS256, kid header).
func (e *Entra) Sign(claims map[string]any) string {
	e.mu.Lock()
	k := e.keys[0]
	e.mu.Unlock()
	return k.sign(claims)
}

func (e *Entra) times() map[string]any {
	now := e.now().Unix()
	return map[string]any{"iat": now, "nbf": now, "exp": now + int64(TokenLifetime/time.Second)}
}

// WebhookToken is the bearer token Microsoft puts on webhook calls (§6.4):
// iss {base}/{tenant}/v2.0, aud the publisher's app id, tid the publisher's
// tenant, azp/appid the marketplace resource, ver 2.0.
func (e *Entra) WebhookToken(tenant, audience string) string {
	c := e.times()
	c["iss"], c["aud"], c["tid"] = e.Issuer(tenant), audience, tenant
	c["azp"], c["appid"], c["ver"] = MarketplaceResource, MarketplaceResource, "2.0"
	c["azpacr"], c["idtyp"] = "2", "app"
	c["oid"], c["sub"] = stableGUID("marketplace-sp:"+tenant), stableGUID("marketplace-sp:"+tenant)
	c["uti"], c["rh"] = randomString(16), "0.sandbox."
	return e.Sign(c)
}

// accessToken is what the client-credentials grant issues for the
// marketplace resource.
func (e *Entra) accessToken(tenant, clientID string) string {
	c := e.times()
	c["iss"], c["aud"], c["tid"] = e.Issuer(tenant), MarketplaceResource, tenant
	c["appid"], c["azp"], c["ver"] = clientID, clientID, "2.0"
	c["azpacr"], c["idtyp"], c["appidacr"] = "1", "app", "1"
	c["oid"], c["sub"] = stableGUID("sp:"+tenant+":"+clientID), stableGUID("sp:"+tenant+":"+clientID)
	c["uti"], c["rh"] = randomString(16), "0.sandbox."
	return e.Sign(c)
}

// VerifyAccessToken checks a marketplace API token: RS256 with the current
// or previous key, not expired (5 min skew), aud = the marketplace resource,
// and an issuer of this fake. It returns the token's tenant and app id.
func (e *Entra) VerifyAccessToken(token string) (tenant, appID string, err error) {
	e.mu.Lock()
	keys := append([]*signingKey(nil), e.keys...)
	e.mu.Unlock()
	c, err := verifyJWT(token, keys)
	if err != nil {
		return "", "", err
	}
	now := e.now()
	exp, ok := claimTime(c, "exp")
	if !ok || now.After(exp.Add(5*time.Minute)) {
		return "", "", errors.New("token expired")
	}
	if nbf, ok := claimTime(c, "nbf"); ok && now.Add(5*time.Minute).Before(nbf) {
		return "", "", errors.New("token not yet valid")
	}
	aud := claimString(c, "aud")
	if aud != MarketplaceResource && aud != "api://"+MarketplaceResource {
		return "", "", fmt.Errorf("wrong audience %q", aud)
	}
	tenant = claimString(c, "tid")
	if tenant == "" || claimString(c, "iss") != e.Issuer(tenant) {
		return "", "", errors.New("wrong issuer")
	}
	appID = claimString(c, "appid")
	if appID == "" {
		appID = claimString(c, "azp")
	}
	return tenant, appID, nil
}

func (e *Entra) count(endpoint string) {
	e.mu.Lock()
	e.stats[endpoint]++
	e.mu.Unlock()
}

// entraRoute is one endpoint of the fake: the methods it takes, the name
// it is counted under and what serves it.
type entraRoute struct {
	methods  []string
	endpoint string
	serve    func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string)
}

// entraRoutes are the endpoints under /{tenant}/.
var entraRoutes = map[string]entraRoute{
	"v2.0/.well-known/openid-configuration": {[]string{http.MethodGet}, "openid-configuration",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) {
			e.openIDConfiguration(w, tenant, true)
		}},
	".well-known/openid-configuration": {[]string{http.MethodGet}, "openid-configuration",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) {
			e.openIDConfiguration(w, tenant, false)
		}},
	"discovery/v2.0/keys": {[]string{http.MethodGet}, "keys",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) { e.jwks(w) }},
	"discovery/keys": {[]string{http.MethodGet}, "keys",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) { e.jwks(w) }},
	"oauth2/v2.0/token": {[]string{http.MethodPost}, "token",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) { e.token(w, r, tenant, true) }},
	"oauth2/token": {[]string{http.MethodPost}, "token",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) { e.token(w, r, tenant, false) }},
	"v2.0/adminconsent": {[]string{http.MethodGet, http.MethodPost}, "adminconsent",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) { e.adminConsent(w, r, tenant) }},
	"oauth2/v2.0/authorize": {[]string{http.MethodGet, http.MethodPost}, "authorize",
		func(e *Entra, w http.ResponseWriter, r *http.Request, tenant string) { e.authorize(w, r, tenant) }},
}

// ServeHTTP serves /{tenant}/... paths relative to Base.
func (e *Entra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.Trim(r.URL.Path, "/"), "/", 2)
	if len(parts) != 2 || parts[0] == "" {
		http.NotFound(w, r)
		return
	}
	tenant, rest := parts[0], parts[1]
	if tenant == "graph" { // the simulated Microsoft Graph (graph.go)
		e.count("graph")
		e.graph(w, r, rest)
		return
	}
	rt, ok := entraRoutes[rest]
	if !ok || !slices.Contains(rt.methods, r.Method) {
		http.NotFound(w, r)
		return
	}
	e.count(rt.endpoint)
	rt.serve(e, w, r, tenant)
}

// multiTenant reports the authority aliases whose issuer is templated.
func multiTenant(tenant string) bool {
	switch strings.ToLower(tenant) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

func (e *Entra) openIDConfiguration(w http.ResponseWriter, tenant string, v2 bool) {
	t := e.base + "/" + tenant
	issuer := e.Issuer(tenant)
	if multiTenant(tenant) {
		issuer = e.base + "/{tenantid}/v2.0" // as Entra: the caller substitutes the token's tid
	}
	jwks := t + "/discovery/v2.0/keys"
	if !v2 {
		jwks = t + "/discovery/keys"
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                t + "/oauth2/v2.0/authorize",
		"token_endpoint":                        t + "/oauth2/v2.0/token",
		"jwks_uri":                              jwks,
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"response_modes_supported":              []string{"query"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "name",
			"preferred_username", "email", "oid", "tid", "ver", "azp", "appid"},
		"code_challenge_methods_supported": []string{"S256", "plain"},
		"request_uri_parameter_supported":  false,
		"tenant_region_scope":              "NA",
		"cloud_instance_name":              "microsoftonline.com",
		"cloud_graph_host_name":            "graph.windows.net",
		"msgraph_host":                     "graph.microsoft.com",
	})
}

func (e *Entra) jwks(w http.ResponseWriter) {
	e.mu.Lock()
	keys := append([]*signingKey(nil), e.keys...)
	e.mu.Unlock()
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.jwk(e.base+"/{tenantid}/v2.0"))
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"keys": out})
}

// tokenError answers in Entra's error shape (AADSTS code in the description).
func (e *Entra) tokenError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	trace, corr := newGUID(), newGUID()
	ts := e.now().UTC().Format("2006-01-02 15:04:05Z")
	writeJSONStatus(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, msg, trace, corr, ts),
		"error_codes": []int{aadsts}, "timestamp": ts, "trace_id": trace, "correlation_id": corr,
		"error_uri": e.base + "/error?code=" + strconv.Itoa(aadsts),
	})
}

// clientCredentials returns client_id and client_secret from the form or
// from HTTP Basic authentication (form-encoded per RFC 6749 §2.3.1).
func clientCredentials(r *http.Request) (id, secret string) {
	id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		if v, err := url.QueryUnescape(u); err == nil {
			u = v
		}
		if v, err := url.QueryUnescape(p); err == nil {
			p = v
		}
		if id == "" {
			id = u
		}
		if secret == "" {
			secret = p
		}
	}
	return id, secret
}

func (e *Entra) token(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	if err := r.ParseForm(); err != nil {
		e.tokenError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must be form-encoded.")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
		e.clientCredentialsGrant(w, r, tenant, v2)
	case "authorization_code":
		e.authorizationCodeGrant(w, r)
	case "":
		e.tokenError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		e.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
	}
}

// clientCredentialsGrant issues a marketplace API token (reference §1):
// scope {resource}/.default on v2 (extra scopes such as MSAL's "openid
// profile offline_access" are ignored), resource on v1.
func (e *Entra) clientCredentialsGrant(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	clientID, secret := clientCredentials(r)
	if multiTenant(tenant) {
		e.tokenError(w, http.StatusBadRequest, "invalid_request", 90002, "The client credentials flow requires a tenant-specific authority, not '"+tenant+"'.")
		return
	}
	if clientID == "" {
		e.tokenError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if v2 && graphDefaultScope(r.PostForm.Get("scope")) { // an app-only Microsoft Graph token (graphapps.go)
		if e.clientSecretOK(w, tenant, clientID, secret) {
			writeJSONStatus(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
				"access_token": e.graphAppToken(tenant, clientID)})
		}
		return
	}
	if v2 {
		ok := false
		for _, s := range strings.Fields(r.PostForm.Get("scope")) {
			if s == MarketplaceResource+"/.default" || s == "api://"+MarketplaceResource+"/.default" {
				ok = true
			}
		}
		if !ok {
			e.tokenError(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier; this sandbox issues tokens only for "+MarketplaceResource+"/.default.")
			return
		}
	} else if res := r.PostForm.Get("resource"); res != MarketplaceResource && res != "api://"+MarketplaceResource {
		e.tokenError(w, http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named "+res+" was not found in the tenant.")
		return
	}
	if !e.clientSecretOK(w, tenant, clientID, secret) {
		return
	}
	tok := e.accessToken(tenant, clientID)
	if v2 {
		writeJSONStatus(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
		return
	}
	now := e.now().Unix()
	// v1 answers its numbers as strings (§1).
	writeJSONStatus(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
		"expires_on": strconv.FormatInt(now+3599, 10), "not_before": strconv.FormatInt(now, 10),
		"resource": MarketplaceResource, "access_token": tok})
}

// clientSecretOK checks a client-credentials grant's app and secret in
// the tenant, answering Entra's error when they do not pass.
func (e *Entra) clientSecretOK(w http.ResponseWriter, tenant, clientID, secret string) bool {
	e.mu.Lock()
	want, known := e.apps[strings.ToLower(tenant)+"|"+clientID]
	e.mu.Unlock()
	switch {
	case !known:
		e.tokenError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
		return false
	case secret == "":
		e.tokenError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return false
	case subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1:
		e.tokenError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return false
	}
	return true
}

// authorizationCodeGrant redeems a code from the sign-in page: single use,
// 5 minutes, same client_id and redirect_uri, PKCE when a challenge was sent,
// and a client secret registered for the client id (or PKCE alone).
func (e *Entra) authorizationCodeGrant(w http.ResponseWriter, r *http.Request) {
	clientID, secret := clientCredentials(r)
	code := r.PostForm.Get("code")
	c, secretOK := e.redeemCode(code, clientID, secret)
	if f := e.codeRefusal(r, c, code, clientID); f != nil {
		e.tokenError(w, f.status, f.code, f.aadsts, f.msg)
		return
	}
	if secret != "" && !secretOK {
		e.tokenError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided.")
		return
	}
	if secret == "" && c.challenge == "" {
		e.tokenError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	writeJSONStatus(w, http.StatusOK, e.codeTokens(c))
}

// redeemCode takes the code out of the store (single use, even when the
// redemption fails) and tells whether secret is a client secret
// registered for clientID.
func (e *Entra) redeemCode(code, clientID, secret string) (*authCode, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.codes[code]
	delete(e.codes, code) // single use, even when the redemption fails
	secretOK := false
	for k, s := range e.apps {
		if strings.HasSuffix(k, "|"+clientID) && secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s)) == 1 {
			secretOK = true
		}
	}
	return c, secretOK
}

// tokenFault is an error answer of the token endpoint.
type tokenFault struct {
	status int
	code   string
	aadsts int
	msg    string
}

// codeRefusal checks the code itself: given, known, fresh, issued to this
// client for this redirect_uri, and its PKCE verifier; nil when it passes.
func (e *Entra) codeRefusal(r *http.Request, c *authCode, code, clientID string) *tokenFault {
	switch {
	case code == "":
		return &tokenFault{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'code'."}
	case c == nil:
		return &tokenFault{http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity, or was already redeemed."}
	case e.now().Sub(c.issued) > CodeLifetime:
		return &tokenFault{http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code has expired."}
	case clientID != c.clientID:
		return &tokenFault{http.StatusBadRequest, "invalid_grant", 70002, "The client_id does not match the one the code was issued to."}
	case r.PostForm.Get("redirect_uri") != c.redirectURI:
		return &tokenFault{http.StatusBadRequest, "invalid_grant", 50148, "The redirect_uri does not match the one used in the authorization request."}
	case c.challenge != "" && !pkceVerified(c, r.PostForm.Get("code_verifier")):
		return &tokenFault{http.StatusBadRequest, "invalid_grant", 501481, "The code_verifier does not match the code_challenge supplied in the authorization request."}
	}
	return nil
}

// pkceVerified tells whether the code_verifier v matches the code's
// challenge (S256 or plain).
func pkceVerified(c *authCode, v string) bool {
	want := v
	if c.challengeMethod == "S256" {
		sum := sha256.Sum256([]byte(v))
		want = b64.EncodeToString(sum[:])
	}
	return v != "" && want == c.challenge
}

// codeTokens is the token response for a redeemed code: an ID token for
// the client and an access token for Microsoft Graph.
func (e *Entra) codeTokens(c *authCode) map[string]any {
	u := c.user
	id := e.times()
	id["iss"], id["aud"], id["tid"], id["ver"] = e.Issuer(u.TenantID), c.clientID, u.TenantID, "2.0"
	id["oid"], id["sub"] = u.ObjectID, stableGUID("pairwise:"+u.ObjectID+":"+c.clientID)
	id["name"], id["preferred_username"], id["email"] = u.Name, u.Email, u.Email
	id["auth_time"] = e.now().Unix()
	if c.nonce != "" {
		id["nonce"] = c.nonce
	}
	at := e.times()
	at["iss"], at["aud"], at["tid"], at["ver"] = e.Issuer(u.TenantID), "00000003-0000-0000-c000-000000000000", u.TenantID, "2.0"
	at["oid"], at["sub"], at["azp"], at["appid"] = u.ObjectID, stableGUID("graph:"+u.ObjectID), c.clientID, c.clientID
	at["name"], at["upn"], at["scp"] = u.Name, u.Email, graphScopes(c.scope)
	ci, _ := json.Marshal(map[string]string{"uid": u.ObjectID, "utid": u.TenantID})
	scope := c.scope
	if scope == "" {
		scope = "openid profile email"
	}
	return map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
		"scope": scope, "access_token": e.Sign(at), "id_token": e.Sign(id),
		"client_info": base64.RawURLEncoding.EncodeToString(ci)}
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
