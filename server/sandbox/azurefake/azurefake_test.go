package azurefake

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	pubTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	appID     = "0b2c4d6e-1111-4222-8333-944455556666"
	secret    = "s3cr3t~value"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	srv   *httptest.Server
	clk   *clock
	entra *Entra
	mp    *Marketplace
	token string

	mu   sync.Mutex
	hook func(body []byte, auth string) int
}

var testOffers = []Offer{{OfferID: "offer1", Name: "Marketgate Cloud", Plans: []Plan{
	{PlanID: "silver", DisplayName: "Silver", PerSeat: true, MinQuantity: 1, MaxQuantity: 50, Dimensions: []string{"api_calls", "email"}, Included: map[string]float64{"api_calls": 1000}},
	{PlanID: "gold", DisplayName: "Gold", PerSeat: true, MinQuantity: 1, MaxQuantity: 100, Dimensions: []string{"api_calls"}},
	{PlanID: "flat", DisplayName: "Flat", Dimensions: []string{"api_calls"}, Private: true},
}}}

func newEnv(t *testing.T, pageSize int) *env {
	t.Helper()
	e := &env{t: t, clk: &clock{t: time.Date(2026, 6, 2, 9, 30, 0, 0, time.UTC)}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.entra = NewEntra(e.srv.URL+"/entra", e.clk.Now)
	e.entra.RegisterApp(pubTenant, appID, secret)
	e.mp = NewMarketplace(Options{Now: e.clk.Now, Base: e.srv.URL + "/api", Entra: e.entra, PublisherID: "contoso",
		Offers: testOffers, PageSize: pageSize, WebhookTenant: pubTenant, WebhookAudience: appID,
		Webhook: func(_ context.Context, body []byte, auth string) (int, error) {
			e.mu.Lock()
			h := e.hook
			e.mu.Unlock()
			if h == nil {
				return 200, nil
			}
			return h(body, auth), nil
		}})
	mux.Handle("/entra/", http.StripPrefix("/entra", e.entra))
	mux.Handle("/api/", http.StripPrefix("/api", e.mp))
	e.token = e.clientToken(t, pubTenant, appID, secret)
	return e
}

func (e *env) setHook(h func(body []byte, auth string) int) {
	e.mu.Lock()
	e.hook = h
	e.mu.Unlock()
}

func postForm(t *testing.T, u string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func (e *env) clientToken(t *testing.T, tenant, client, sec string) string {
	t.Helper()
	resp, out := postForm(t, e.srv.URL+"/entra/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {client}, "client_secret": {sec}, "scope": {MarketplaceResource + "/.default openid offline_access profile"}, "client_info": {"1"}})
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, out)
	}
	return out["access_token"].(string)
}

// call sends an API request with api-version and the bearer token.
func (e *env) call(method, path string, body any, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + "/api" + path
	}
	if !strings.Contains(u, "api-version=") {
		if strings.Contains(u, "?") {
			u += "&api-version=" + APIVersion
		} else {
			u += "?api-version=" + APIVersion
		}
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func (e *env) purchase(plan string, q int) (string, string) {
	e.t.Helper()
	id, tok, err := e.mp.Purchase("offer1", plan, q, Party{EmailID: "megan@contoso.example", ObjectID: newGUID(), TenantID: newGUID()}, Party{}, "Contoso Cloud")
	if err != nil {
		e.t.Fatal(err)
	}
	return id, tok
}

func (e *env) activated(plan string, q int) string {
	e.t.Helper()
	id, _ := e.purchase(plan, q)
	body := map[string]any{"planId": plan}
	if q > 0 {
		body["quantity"] = q
	}
	if resp, b := e.call("POST", "/saas/subscriptions/"+id+"/activate", body, nil); resp.StatusCode != 200 {
		e.e(resp, b)
	}
	return id
}

func (e *env) e(resp *http.Response, b []byte) {
	e.t.Helper()
	e.t.Fatalf("unexpected %d: %s", resp.StatusCode, b)
}

// verifyWithJWKS checks an RS256 JWT against the JWKS fetched over HTTP,
// independently of the package's own verifier.
func verifyWithJWKS(t *testing.T, jwksURL, token string) map[string]any {
	t.Helper()
	resp, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Kid, N, E, Alg, Use string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	var hdr struct{ Alg, Kid string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &hdr)
	if hdr.Alg != "RS256" || hdr.Kid == "" {
		t.Fatalf("header %s", hb)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	for _, k := range set.Keys {
		if k.Kid != hdr.Kid {
			continue
		}
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
			t.Fatalf("key %+v", k)
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		eb, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(eb).Int64())}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("signature: %v", err)
		}
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		_ = json.Unmarshal(cb, &claims)
		return claims
	}
	t.Fatalf("kid %s not in JWKS", hdr.Kid)
	return nil
}

func TestTokenFlow(t *testing.T) {
	e := newEnv(t, 100)
	tenant, app, err := e.entra.VerifyAccessToken(e.token)
	if err != nil || tenant != pubTenant || app != appID {
		t.Fatalf("verify: %q %q %v", tenant, app, err)
	}
	claims := verifyWithJWKS(t, e.srv.URL+"/entra/"+pubTenant+"/discovery/v2.0/keys", e.token)
	if claims["aud"] != MarketplaceResource || claims["tid"] != pubTenant || claims["appid"] != appID || claims["azp"] != appID ||
		claims["iss"] != e.srv.URL+"/entra/"+pubTenant+"/v2.0" {
		t.Fatalf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 3600 {
		t.Fatalf("lifetime %v", exp-iat)
	}

	resp, out := postForm(t, e.srv.URL+"/entra/"+pubTenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {"wrong"}, "scope": {MarketplaceResource + "/.default"}})
	if resp.StatusCode != 401 || out["error"] != "invalid_client" || !strings.Contains(out["error_description"].(string), "AADSTS7000215") {
		t.Fatalf("bad secret: %d %v", resp.StatusCode, out)
	}
	resp, out = postForm(t, e.srv.URL+"/entra/"+newGUID()+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "scope": {MarketplaceResource + "/.default"}})
	if resp.StatusCode != 400 || out["error"] != "unauthorized_client" {
		t.Fatalf("other tenant: %d %v", resp.StatusCode, out)
	}
	resp, out = postForm(t, e.srv.URL+"/entra/"+pubTenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "scope": {"https://vault.azure.net/.default"}})
	if resp.StatusCode != 400 || out["error"] != "invalid_scope" {
		t.Fatalf("scope: %d %v", resp.StatusCode, out)
	}
	// v1 endpoint: numbers as strings.
	resp, out = postForm(t, e.srv.URL+"/entra/"+pubTenant+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "resource": {MarketplaceResource}})
	if resp.StatusCode != 200 || out["expires_in"] != "3599" {
		t.Fatalf("v1: %d %v", resp.StatusCode, out)
	}

	// OpenID configuration usable as an MSAL authority.
	r, err := http.Get(e.srv.URL + "/entra/" + pubTenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	_ = json.NewDecoder(r.Body).Decode(&cfg)
	r.Body.Close()
	base := e.srv.URL + "/entra/" + pubTenant
	if cfg["issuer"] != base+"/v2.0" || cfg["token_endpoint"] != base+"/oauth2/v2.0/token" ||
		cfg["authorization_endpoint"] != base+"/oauth2/v2.0/authorize" || cfg["jwks_uri"] != base+"/discovery/v2.0/keys" {
		t.Fatalf("config %v", cfg)
	}
}

func TestAuthorizeCodeFlow(t *testing.T) {
	e := newEnv(t, 100)
	e.entra.RegisterApp(pubTenant, "landing-app", "landing-secret")
	redirect := "https://seller.example/landing/callback?x=1"
	q := url.Values{"client_id": {"landing-app"}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {`<script>alert(1)</script>`}, "nonce": {"n-123"}, "response_mode": {"query"}}
	authURL := e.srv.URL + "/entra/organizations/oauth2/v2.0/authorize?" + q.Encode()
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("Sandbox: Microsoft sign-in")) || bytes.Contains(page, []byte("<script>alert")) {
		t.Fatalf("page %d: %s", resp.StatusCode, page)
	}
	if !regexp.MustCompile(`value="[a-z]+@contoso-\d+\.example"`).Match(page) {
		t.Fatalf("no default e-mail in %s", page)
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"name": {"Megan Bowen"}, "email": {"megan@contoso-7.example"}, "org": {"Contoso 7"}, "tenant_id": {""}}
	for k, v := range q {
		form[k] = v
	}
	resp, err = noFollow.PostForm(e.srv.URL+"/entra/organizations/oauth2/v2.0/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || loc.Host != "seller.example" || loc.Query().Get("x") != "1" || loc.Query().Get("state") != q.Get("state") {
		t.Fatalf("redirect %d %s", resp.StatusCode, loc)
	}
	code := loc.Query().Get("code")
	exchange := func(code, redirectURI, sec string) (*http.Response, map[string]any) {
		return postForm(t, e.srv.URL+"/entra/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "redirect_uri": {redirectURI}, "client_id": {"landing-app"}, "client_secret": {sec}})
	}
	tr, out := exchange(code, redirect, "landing-secret")
	if tr.StatusCode != 200 || out["token_type"] != "Bearer" || out["access_token"] == nil {
		t.Fatalf("exchange %d %v", tr.StatusCode, out)
	}
	id := out["id_token"].(string)
	claims := verifyWithJWKS(t, e.srv.URL+"/entra/common/discovery/v2.0/keys", id)
	tid, _ := claims["tid"].(string)
	if !isGUID(tid) || claims["iss"] != e.srv.URL+"/entra/"+tid+"/v2.0" || claims["aud"] != "landing-app" ||
		claims["nonce"] != "n-123" || claims["email"] != "megan@contoso-7.example" || claims["preferred_username"] != "megan@contoso-7.example" ||
		claims["name"] != "Megan Bowen" || !isGUID(claims["oid"].(string)) || claims["sub"] == "" {
		t.Fatalf("id_token claims %v", claims)
	}
	// Single use.
	if tr, out = exchange(code, redirect, "landing-secret"); tr.StatusCode != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("reuse %d %v", tr.StatusCode, out)
	}
	// A fresh code with the wrong redirect_uri, and one that expired.
	resp, _ = noFollow.PostForm(e.srv.URL+"/entra/organizations/oauth2/v2.0/authorize", form)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if tr, out = exchange(loc.Query().Get("code"), "https://evil.example/cb", "landing-secret"); tr.StatusCode != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("redirect mismatch %d %v", tr.StatusCode, out)
	}
	resp, _ = noFollow.PostForm(e.srv.URL+"/entra/organizations/oauth2/v2.0/authorize", form)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	e.clk.Add(6 * time.Minute)
	if tr, out = exchange(loc.Query().Get("code"), redirect, "landing-secret"); tr.StatusCode != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("expired %d %v", tr.StatusCode, out)
	}
}

func TestWebhookTokenAndRotation(t *testing.T) {
	e := newEnv(t, 100)
	wt := e.entra.WebhookToken(pubTenant, appID)
	r, _ := http.Get(e.srv.URL + "/entra/" + pubTenant + "/.well-known/openid-configuration")
	var cfg struct {
		JWKS string `json:"jwks_uri"`
	}
	_ = json.NewDecoder(r.Body).Decode(&cfg)
	r.Body.Close()
	c := verifyWithJWKS(t, cfg.JWKS, wt)
	if c["aud"] != appID || c["tid"] != pubTenant || c["azp"] != MarketplaceResource || c["appid"] != MarketplaceResource ||
		c["ver"] != "2.0" || c["iss"] != e.srv.URL+"/entra/"+pubTenant+"/v2.0" || c["nbf"] == nil || c["exp"] == nil {
		t.Fatalf("webhook claims %v", c)
	}
	old := e.token
	e.entra.RotateKey()
	verifyWithJWKS(t, cfg.JWKS, wt) // the previous key is still listed
	if _, _, err := e.entra.VerifyAccessToken(old); err != nil {
		t.Fatalf("previous key: %v", err)
	}
	e.entra.RotateKey()
	if _, _, err := e.entra.VerifyAccessToken(old); err == nil {
		t.Fatal("a key two rotations old still verifies")
	}
	// Forged claims: wrong audience, expired.
	now := e.clk.Now().Unix()
	if _, _, err := e.entra.VerifyAccessToken(e.entra.Sign(map[string]any{"aud": "x", "tid": pubTenant, "iss": e.entra.Issuer(pubTenant), "exp": now + 60})); err == nil {
		t.Fatal("wrong aud accepted")
	}
	if _, _, err := e.entra.VerifyAccessToken(e.entra.Sign(map[string]any{"aud": MarketplaceResource, "tid": pubTenant, "iss": e.entra.Issuer(pubTenant), "exp": now - 3600})); err == nil {
		t.Fatal("expired accepted")
	}
}

func TestPurchaseResolveActivate(t *testing.T) {
	e := newEnv(t, 100)
	id, tok := e.purchase("silver", 20)
	if !strings.ContainsAny(tok, "+") || !strings.ContainsAny(tok, "/") {
		t.Fatalf("token %q lacks + or /", tok)
	}
	// The landing page gets the URL-encoded token and sends it decoded.
	landing, _ := url.Parse("https://seller.example/landing?token=" + url.QueryEscape(tok))
	resp, b := e.call("POST", "/saas/subscriptions/resolve", nil, map[string]string{"x-ms-marketplace-token": landing.Query().Get("token")})
	if resp.StatusCode != 200 {
		e.e(resp, b)
	}
	res := decode(t, b)
	sub := res["subscription"].(map[string]any)
	if res["id"] != id || res["subscriptionName"] != "Contoso Cloud" || res["offerId"] != "offer1" || res["planId"] != "silver" ||
		res["quantity"] != 20.0 || sub["saasSubscriptionStatus"] != "PendingFulfillmentStart" || sub["publisherId"] != "contoso" {
		t.Fatalf("resolve %s", b)
	}
	if resp, _ := e.call("POST", "/saas/subscriptions/resolve", nil, map[string]string{"x-ms-marketplace-token": strings.ReplaceAll(tok, "+", " ")}); resp.StatusCode != 400 {
		t.Fatalf("mangled token: %d", resp.StatusCode)
	}
	if resp, _ := e.call("POST", "/saas/subscriptions/resolve", nil, nil); resp.StatusCode != 400 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := e.call("POST", "/saas/subscriptions/"+id+"/activate", map[string]any{"planId": "gold", "quantity": 20}, nil); resp.StatusCode != 400 {
		t.Fatalf("wrong plan: %d", resp.StatusCode)
	}
	resp, b = e.call("POST", "/saas/subscriptions/"+id+"/activate", map[string]any{"planId": "silver", "quantity": "20"}, nil)
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("activate %d %q", resp.StatusCode, b)
	}
	if resp, _ := e.call("POST", "/saas/subscriptions/"+id+"/activate", map[string]any{"planId": "silver"}, nil); resp.StatusCode != 400 {
		t.Fatalf("second activate: %d", resp.StatusCode)
	}
	resp, b = e.call("GET", "/saas/subscriptions/"+id, nil, nil)
	got := decode(t, b)
	term := got["term"].(map[string]any)
	if resp.StatusCode != 200 || got["saasSubscriptionStatus"] != "Subscribed" || term["startDate"] != "2026-06-02" || term["endDate"] != "2026-07-01" ||
		term["termUnit"] != "P1M" || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`).MatchString(got["created"].(string)) {
		t.Fatalf("get %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.call("GET", "/saas/subscriptions/"+newGUID(), nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown: %d", resp.StatusCode)
	}
	// Resolve works in every status, until the token is 24 h old.
	if resp, b := e.call("POST", "/saas/subscriptions/resolve", nil, map[string]string{"x-ms-marketplace-token": tok}); resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"Subscribed"`)) {
		t.Fatalf("resolve subscribed: %d %s", resp.StatusCode, b)
	}
	e.clk.Add(25 * time.Hour)
	e.token = e.clientToken(t, pubTenant, appID, secret)
	if resp, _ := e.call("POST", "/saas/subscriptions/resolve", nil, map[string]string{"x-ms-marketplace-token": tok}); resp.StatusCode != 400 {
		t.Fatalf("expired token: %d", resp.StatusCode)
	}
	// Plans: every plan, current included; filter; unknown 404.
	resp, b = e.call("GET", "/saas/subscriptions/"+id+"/listAvailablePlans", nil, nil)
	var plans struct {
		Plans []struct {
			PlanID         string
			IsPrivate      bool
			IsPricePerSeat bool
			MinQuantity    *int
			MaxQuantity    *int
			PlanComponents struct{ MeteringDimensions []struct{ ID string } }
		}
	}
	_ = json.Unmarshal(b, &plans)
	if resp.StatusCode != 200 || len(plans.Plans) != 3 || plans.Plans[0].PlanID != "silver" || *plans.Plans[0].MaxQuantity != 50 ||
		len(plans.Plans[0].PlanComponents.MeteringDimensions) != 2 || !plans.Plans[2].IsPrivate || plans.Plans[2].IsPricePerSeat {
		t.Fatalf("plans %s", b)
	}
	if _, b = e.call("GET", "/saas/subscriptions/"+id+"/listAvailablePlans?planId=gold", nil, nil); !bytes.Contains(b, []byte(`"gold"`)) || bytes.Contains(b, []byte(`"silver"`)) {
		t.Fatalf("filter %s", b)
	}
	if resp, _ := e.call("GET", "/saas/subscriptions/"+newGUID()+"/listAvailablePlans", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("plans unknown %d", resp.StatusCode)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t, 2)
	want := map[string]bool{}
	for i := 0; i < 5; i++ {
		id, _ := e.purchase("silver", 1)
		want[id] = true
	}
	_, _ = e.mp.Unsubscribe(func() string {
		for id := range want {
			return id
		}
		return ""
	}())
	seen := map[string]bool{}
	next, pages := "/saas/subscriptions", 0
	for next != "" {
		resp, b := e.call("GET", next, nil, nil)
		if resp.StatusCode != 200 {
			e.e(resp, b)
		}
		pages++
		var page struct {
			Subscriptions []struct{ ID string }
			NextLink      string `json:"@nextLink"`
		}
		_ = json.Unmarshal(b, &page)
		for _, s := range page.Subscriptions {
			seen[s.ID] = true
		}
		next = page.NextLink
		if next != "" && (!strings.HasPrefix(next, e.srv.URL+"/api/saas/subscriptions?continuationToken=") || !strings.Contains(next, "api-version="+APIVersion)) {
			t.Fatalf("nextLink %s", next)
		}
	}
	if pages != 3 || len(seen) != 5 {
		t.Fatalf("pages %d, subscriptions %d", pages, len(seen))
	}
	if resp, _ := e.call("GET", "/saas/subscriptions?continuationToken=garbage", nil, nil); resp.StatusCode != 400 {
		t.Fatalf("bad continuation %d", resp.StatusCode)
	}
}

func opPath(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("api-version") != APIVersion {
		t.Fatalf("Operation-Location %q", loc)
	}
	return strings.TrimPrefix(u.Path, "/api")
}

func TestPatchPlanOperation(t *testing.T) {
	e := newEnv(t, 100)
	var hooks []map[string]any
	var hookMu sync.Mutex
	e.setHook(func(body []byte, auth string) int {
		hookMu.Lock()
		defer hookMu.Unlock()
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		hooks = append(hooks, m)
		return 200
	})
	id := e.activated("silver", 5)
	resp, b := e.call("PATCH", "/saas/subscriptions/"+id, map[string]any{"planId": "gold"}, nil)
	if resp.StatusCode != 202 {
		e.e(resp, b)
	}
	op := opPath(t, resp.Header.Get("Operation-Location"))
	if !strings.HasPrefix(resp.Header.Get("Operation-Location"), e.srv.URL+"/api/saas/subscriptions/"+id+"/operations/") {
		t.Fatalf("location %s", resp.Header.Get("Operation-Location"))
	}
	_, b = e.call("GET", op, nil, nil)
	if o := decode(t, b); o["status"] != "InProgress" || o["action"] != "ChangePlan" || o["planId"] != "gold" || o["operationRequestSource"] != "Partner" {
		t.Fatalf("op %s", b)
	}
	if resp, _ := e.call("PATCH", "/saas/subscriptions/"+id, map[string]any{"quantity": 7}, nil); resp.StatusCode != 409 {
		t.Fatalf("pending: %d", resp.StatusCode)
	}
	if resp, _ := e.call("DELETE", "/saas/subscriptions/"+id, nil, nil); resp.StatusCode != 409 {
		t.Fatalf("pending delete: %d", resp.StatusCode)
	}
	// Partner operations are not listed as outstanding; the body is {}.
	if _, b := e.call("GET", "/saas/subscriptions/"+id+"/operations", nil, nil); strings.TrimSpace(string(b)) != "{}" {
		t.Fatalf("outstanding %s", b)
	}
	e.clk.Add(1 * time.Second)
	if _, b = e.call("GET", op, nil, nil); decode(t, b)["status"] != "InProgress" {
		t.Fatalf("too early %s", b)
	}
	e.clk.Add(1 * time.Second)
	_, b = e.call("GET", op, nil, nil)
	if decode(t, b)["status"] != "Succeeded" {
		t.Fatalf("after delay %s", b)
	}
	if s, _ := e.mp.Get(id); s.PlanID != "gold" || s.Quantity != 5 {
		t.Fatalf("sub %+v", s)
	}
	hookMu.Lock()
	if len(hooks) != 1 || hooks[0]["action"] != "ChangePlan" || hooks[0]["status"] != "Succeeded" || hooks[0]["operationRequestSource"] != "Partner" {
		t.Fatalf("webhooks %v", hooks)
	}
	hookMu.Unlock()
	// Preconditions.
	for _, body := range []map[string]any{{"planId": "gold"}, {"planId": "nope"}, {"quantity": 5}, {"quantity": 500}, {"planId": "silver", "quantity": 3}, {}} {
		if resp, b := e.call("PATCH", "/saas/subscriptions/"+id, body, nil); resp.StatusCode != 400 {
			t.Fatalf("%v: %d %s", body, resp.StatusCode, b)
		}
	}
	// PATCH of a finalized operation: 409.
	if resp, _ := e.call("PATCH", op, map[string]any{"status": "Success"}, nil); resp.StatusCode != 409 {
		t.Fatalf("finalized: %d", resp.StatusCode)
	}
	// DELETE → Unsubscribed after the delay, with a Partner webhook.
	resp, _ = e.call("DELETE", "/saas/subscriptions/"+id, nil, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("delete %d", resp.StatusCode)
	}
	del := opPath(t, resp.Header.Get("Operation-Location"))
	e.clk.Add(2 * time.Second)
	e.mp.Tick()
	if s, _ := e.mp.Get(id); s.Status != StatusUnsubscribed {
		t.Fatalf("status %s", s.Status)
	}
	if _, b = e.call("GET", del, nil, nil); decode(t, b)["action"] != "Unsubscribe" || decode(t, b)["status"] != "Succeeded" {
		t.Fatalf("delete op %s", b)
	}
	hookMu.Lock()
	if len(hooks) != 2 || hooks[1]["action"] != "Unsubscribe" || hooks[1]["operationRequestSource"] != "Partner" {
		t.Fatalf("webhooks %v", hooks)
	}
	hookMu.Unlock()
	if resp, _ := e.call("POST", "/saas/subscriptions/"+id+"/activate", map[string]any{"planId": "gold"}, nil); resp.StatusCode != 404 {
		t.Fatalf("activate unsubscribed %d", resp.StatusCode)
	}
}

func TestFailNextOperation(t *testing.T) {
	e := newEnv(t, 100)
	id := e.activated("silver", 5)
	e.mp.FailNextOperation("Payment instrument declined")
	resp, _ := e.call("PATCH", "/saas/subscriptions/"+id, map[string]any{"quantity": 8}, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("patch %d", resp.StatusCode)
	}
	op := opPath(t, resp.Header.Get("Operation-Location"))
	e.clk.Add(3 * time.Second)
	_, b := e.call("GET", op, nil, nil)
	if o := decode(t, b); o["status"] != "Failed" || o["errorMessage"] != "Payment instrument declined" || o["action"] != "ChangeQuantity" {
		t.Fatalf("op %s", b)
	}
	if s, _ := e.mp.Get(id); s.Quantity != 5 {
		t.Fatalf("quantity %d", s.Quantity)
	}
	// The next one succeeds.
	resp, _ = e.call("PATCH", "/saas/subscriptions/"+id, map[string]any{"quantity": 8}, nil)
	e.clk.Add(3 * time.Second)
	if s, _ := e.mp.Get(id); s.Quantity != 8 || resp.StatusCode != 202 {
		t.Fatalf("quantity %d", s.Quantity)
	}
}

func TestCustomerChangeQuantity(t *testing.T) {
	e := newEnv(t, 100)
	id := e.activated("silver", 20)
	answer := 200
	var got map[string]any
	e.setHook(func(body []byte, auth string) int {
		if !strings.HasPrefix(auth, "Bearer ") {
			t.Errorf("auth %q", auth)
		}
		c := verifyWithJWKS(t, e.srv.URL+"/entra/"+pubTenant+"/discovery/v2.0/keys", strings.TrimPrefix(auth, "Bearer "))
		if c["aud"] != appID || c["tid"] != pubTenant || c["azp"] != MarketplaceResource {
			t.Errorf("claims %v", c)
		}
		_ = json.Unmarshal(body, &got)
		return answer
	})
	opID, err := e.mp.ChangeQuantity(id, 25)
	if err != nil {
		t.Fatal(err)
	}
	sub := got["subscription"].(map[string]any)
	if got["id"] != opID || got["action"] != "ChangeQuantity" || got["status"] != "InProgress" || got["operationRequestSource"] != "Azure" ||
		got["quantity"] != 25.0 || sub["quantity"] != 20.0 || got["purchaseToken"] != nil || got["subscriptionId"] != id ||
		!regexp.MustCompile(`\.\d{7}Z$`).MatchString(got["timeStamp"].(string)) {
		t.Fatalf("payload %v", got)
	}
	if _, ok := got["purchaseToken"]; !ok {
		t.Fatal("purchaseToken missing")
	}
	_, b := e.call("GET", "/saas/subscriptions/"+id+"/operations", nil, nil)
	var outstanding struct{ Operations []struct{ ID, Status string } }
	_ = json.Unmarshal(b, &outstanding)
	if len(outstanding.Operations) != 1 || outstanding.Operations[0].ID != opID {
		t.Fatalf("outstanding %s", b)
	}
	if _, err := e.mp.ChangeQuantity(id, 30); err == nil {
		t.Fatal("second change while one is pending")
	}
	if resp, b := e.call("PATCH", "/saas/subscriptions/"+id+"/operations/"+opID, map[string]any{"status": "Success"}, nil); resp.StatusCode != 200 {
		e.e(resp, b)
	}
	if o, _ := e.mp.Operation(id, opID); o.Status != OpSucceeded {
		t.Fatalf("op %+v", o)
	}
	if s, _ := e.mp.Get(id); s.Quantity != 25 {
		t.Fatalf("quantity %d", s.Quantity)
	}
	if resp, _ := e.call("PATCH", "/saas/subscriptions/"+id+"/operations/"+opID, map[string]any{"status": "Failure"}, nil); resp.StatusCode != 409 {
		t.Fatalf("finalized %d", resp.StatusCode)
	}

	// A 4xx answer rejects the change at once.
	answer = 400
	opID, _ = e.mp.ChangeQuantity(id, 30)
	if o, _ := e.mp.Operation(id, opID); o.Status != OpFailed || o.ErrorStatusCode != "400" {
		t.Fatalf("rejected op %+v", o)
	}
	if s, _ := e.mp.Get(id); s.Quantity != 25 {
		t.Fatalf("quantity %d", s.Quantity)
	}

	// No PATCH: auto-accepted after 10 s. PATCH Failure would have failed it.
	answer = 200
	opID, _ = e.mp.ChangePlan(id, "gold")
	e.clk.Add(9 * time.Second)
	if o, _ := e.mp.Operation(id, opID); o.Status != OpInProgress {
		t.Fatalf("early %+v", o)
	}
	e.clk.Add(time.Second)
	if o, _ := e.mp.Operation(id, opID); o.Status != OpSucceeded {
		t.Fatalf("auto-accept %+v", o)
	}
	if s, _ := e.mp.Get(id); s.PlanID != "gold" || s.Quantity != 25 {
		t.Fatalf("sub %+v", s)
	}
	opID, _ = e.mp.ChangeQuantity(id, 40)
	e.call("PATCH", "/saas/subscriptions/"+id+"/operations/"+opID, map[string]any{"status": "Failure"}, nil)
	if o, _ := e.mp.Operation(id, opID); o.Status != OpFailed {
		t.Fatalf("failure %+v", o)
	}
	if n, err := e.mp.RedeliverWebhook(id, opID); n != 200 || err != nil {
		t.Fatalf("redeliver %d %v", n, err)
	}
}

func TestCustomerLifecycle(t *testing.T) {
	e := newEnv(t, 100)
	id := e.activated("flat", 0)
	var actions []string
	e.setHook(func(body []byte, _ string) int {
		var p struct {
			Action, Status string
			Subscription   struct{ SaasSubscriptionStatus string }
			Quantity       *int
		}
		_ = json.Unmarshal(body, &p)
		if p.Quantity != nil {
			t.Errorf("quantity on a flat plan: %s", body)
		}
		actions = append(actions, p.Action+"/"+p.Status+"/"+p.Subscription.SaasSubscriptionStatus)
		return 200
	})
	if _, err := e.mp.Reinstate(id); err == nil {
		t.Fatal("reinstate of a Subscribed subscription")
	}
	if _, err := e.mp.Renew(id); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.mp.Get(id); s.StartDate.Format(dateLayout) != "2026-07-02" || s.EndDate.Format(dateLayout) != "2026-08-01" {
		t.Fatalf("term %v %v", s.StartDate, s.EndDate)
	}
	if _, err := e.mp.Suspend(id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.call("PATCH", "/saas/subscriptions/"+id, map[string]any{"planId": "gold"}, nil); resp.StatusCode != 400 {
		t.Fatalf("patch suspended %d", resp.StatusCode)
	}
	if _, err := e.mp.Reinstate(id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mp.Unsubscribe(id); err != nil {
		t.Fatal(err)
	}
	want := "Renew/Succeeded/Subscribed Suspend/Succeeded/Suspended Reinstate/Succeeded/Subscribed Unsubscribe/Succeeded/Unsubscribed"
	if strings.Join(actions, " ") != want {
		t.Fatalf("webhooks %v", actions)
	}
	// Drift: a silent change shows up only through GET.
	id2 := e.activated("silver", 3)
	_ = e.mp.SetPlanSilently(id2, "gold")
	_ = e.mp.SetStatusSilently(id2, StatusSuspended)
	if _, b := e.call("GET", "/saas/subscriptions/"+id2, nil, nil); !bytes.Contains(b, []byte(`"planId":"gold"`)) || !bytes.Contains(b, []byte(`"Suspended"`)) {
		t.Fatalf("drift %s", b)
	}
	if len(actions) != 4 {
		t.Fatalf("silent change sent a webhook: %v", actions)
	}
}

func TestMetering(t *testing.T) {
	e := newEnv(t, 100)
	id := e.activated("silver", 5)
	hour := "2026-06-02T09:00:00Z"
	ev := func(q any, dim, eff, plan string) map[string]any {
		return map[string]any{"resourceId": id, "quantity": q, "dimension": dim, "effectiveStartTime": eff, "planId": plan}
	}
	resp, b := e.call("POST", "/usageEvent", ev(5.0, "api_calls", hour, "silver"), nil)
	if resp.StatusCode != 200 {
		e.e(resp, b)
	}
	acc := decode(t, b)
	if acc["status"] != "Accepted" || !isGUID(acc["usageEventId"].(string)) || !bytes.Contains(b, []byte(`"quantity":5.0`)) || acc["effectiveStartTime"] != hour {
		t.Fatalf("accepted %s", b)
	}
	// Same resource, dimension and hour: 409 with the original.
	resp, b = e.call("POST", "/usageEvent", ev(7, "api_calls", "2026-06-02T09:15:00", "silver"), nil)
	dup := decode(t, b)
	orig := dup["additionalInfo"].(map[string]any)["acceptedMessage"].(map[string]any)
	if resp.StatusCode != 409 || dup["code"] != "Conflict" || orig["usageEventId"] != acc["usageEventId"] || orig["quantity"] != 5.0 {
		t.Fatalf("duplicate %d %s", resp.StatusCode, b)
	}
	for name, c := range map[string]struct {
		body map[string]any
		code string
	}{
		"expired":   {ev(1, "api_calls", "2026-06-01T08:00:00Z", "silver"), "Expired"},
		"zero":      {ev(0, "api_calls", "2026-06-02T08:00:00Z", "silver"), "InvalidQuantity"},
		"dimension": {ev(1, "storage", "2026-06-02T08:00:00Z", "silver"), "InvalidDimension"},
		"plan":      {ev(1, "api_calls", "2026-06-02T08:00:00Z", "gold"), "BadArgument"},
		"missing":   {map[string]any{"quantity": 1}, "BadArgument"},
	} {
		resp, b := e.call("POST", "/usageEvent", c.body, nil)
		var out struct {
			Code    string
			Details []struct{ Code string }
		}
		_ = json.Unmarshal(b, &out)
		if resp.StatusCode != 400 || out.Code != "BadArgument" || len(out.Details) != 1 || out.Details[0].Code != c.code {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	// Batch: 26 is too many; a mixed batch reports per item.
	many := make([]any, 26)
	for i := range many {
		many[i] = ev(1, "api_calls", hour, "silver")
	}
	if resp, _ := e.call("POST", "/batchUsageEvent", map[string]any{"request": many}, nil); resp.StatusCode != 400 {
		t.Fatalf("26 events: %d", resp.StatusCode)
	}
	other, _ := e.purchase("silver", 1)
	batch := []any{
		ev(2, "email", hour, "silver"),
		ev(9, "api_calls", "2026-06-02T09:20:00Z", "silver"),
		ev(1, "api_calls", "2026-05-31T09:00:00Z", "silver"),
		map[string]any{"resourceId": newGUID(), "quantity": 1, "dimension": "api_calls", "effectiveStartTime": hour, "planId": "silver"},
		map[string]any{"resourceId": other, "quantity": 1, "dimension": "api_calls", "effectiveStartTime": hour, "planId": "silver"},
		ev(-1, "email", "2026-06-02T08:00:00Z", "silver"),
	}
	resp, b = e.call("POST", "/batchUsageEvent", map[string]any{"request": batch}, nil)
	var br struct {
		Count  int
		Result []struct {
			Status, UsageEventID, MessageTime string
			Error                             *struct {
				Code           string
				AdditionalInfo *struct{ AcceptedMessage struct{ UsageEventID string } }
			}
		}
	}
	_ = json.Unmarshal(b, &br)
	var statuses []string
	for _, r := range br.Result {
		statuses = append(statuses, r.Status)
	}
	if resp.StatusCode != 200 || br.Count != 6 || strings.Join(statuses, ",") != "Accepted,Duplicate,Expired,ResourceNotFound,ResourceNotActive,InvalidQuantity" {
		t.Fatalf("batch %d %s", resp.StatusCode, b)
	}
	if d := br.Result[1]; d.Error == nil || d.Error.AdditionalInfo == nil || d.Error.AdditionalInfo.AcceptedMessage.UsageEventID != acc["usageEventId"] || d.MessageTime != sentinelTime {
		t.Fatalf("batch duplicate %s", b)
	}
	if u := e.mp.Usage(); len(u) != 2 || u[0].Quantity != 5 || u[1].Dimension != "email" {
		t.Fatalf("usage %+v", u)
	}
	resp, b = e.call("GET", "/usageEvents?usageStartDate=2026-06-02", nil, nil)
	var rows []map[string]any
	_ = json.Unmarshal(b, &rows)
	if resp.StatusCode != 200 || len(rows) != 2 || rows[0]["usageResourceId"] != id || rows[0]["reconStatus"] != "Accepted" {
		t.Fatalf("usageEvents %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.call("GET", "/usageEvents", nil, nil); resp.StatusCode != 400 {
		t.Fatalf("usageEvents without start: %d", resp.StatusCode)
	}
}

func TestAPIVersionAuthAndInjection(t *testing.T) {
	e := newEnv(t, 100)
	id, _ := e.purchase("silver", 1)
	resp, err := http.Get(e.srv.URL + "/api/saas/subscriptions/" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("no api-version: %d", resp.StatusCode)
	}
	if resp, _ := e.call("GET", "/saas/subscriptions/"+id+"?api-version=2020-01-01", nil, nil); resp.StatusCode != 400 {
		t.Fatalf("wrong api-version: %d", resp.StatusCode)
	}
	if resp, _ := e.call("GET", "/saas/subscriptions/"+id, nil, map[string]string{"Authorization": ""}); resp.StatusCode != 403 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := e.call("POST", "/usageEvent", map[string]any{}, map[string]string{"Authorization": "Bearer garbage"}); resp.StatusCode != 403 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	// A token of another app in the publisher's tenant: 403 (§1).
	e.entra.RegisterApp(pubTenant, "other-app", "x")
	other := e.clientToken(t, pubTenant, "other-app", "x")
	if resp, _ := e.call("GET", "/saas/subscriptions/"+id, nil, map[string]string{"Authorization": "Bearer " + other}); resp.StatusCode != 403 {
		t.Fatalf("other app: %d", resp.StatusCode)
	}
	// An expired token.
	e.clk.Add(2 * time.Hour)
	if resp, _ := e.call("GET", "/saas/subscriptions/"+id, nil, nil); resp.StatusCode != 403 {
		t.Fatalf("expired token: %d", resp.StatusCode)
	}
	e.token = e.clientToken(t, pubTenant, appID, secret)
	// Request ids are echoed.
	resp, _ = e.call("GET", "/saas/subscriptions/"+id, nil, map[string]string{"x-ms-requestid": "abc", "x-ms-correlationid": "def"})
	if resp.Header.Get("x-ms-requestid") != "abc" || resp.Header.Get("x-ms-correlationid") != "def" {
		t.Fatalf("headers %v", resp.Header)
	}
	e.mp.FailNext("get", 500, `{"error":{"code":"InternalServerError","message":"boom"}}`)
	resp, b := e.call("GET", "/saas/subscriptions/"+id, nil, nil)
	if resp.StatusCode != 500 || !bytes.Contains(b, []byte("boom")) {
		t.Fatalf("injected %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.call("GET", "/saas/subscriptions/"+id, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after injection %d", resp.StatusCode)
	}
	e.mp.FailNext("usageEvent", 503, "")
	if resp, _ := e.call("POST", "/usageEvent", map[string]any{}, nil); resp.StatusCode != 503 {
		t.Fatalf("usage injected %d", resp.StatusCode)
	}
	if resp, _ := e.call("GET", "/saas/nothing", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown route %d", resp.StatusCode)
	}
}

func TestTermEnd(t *testing.T) {
	for _, c := range []struct{ start, unit, end string }{
		{"2026-06-02", "P1M", "2026-07-01"},
		{"2026-01-31", "P1M", "2026-02-27"},
		{"2026-06-02", "P1Y", "2027-06-01"},
		{"2026-12-15", "P1M", "2027-01-14"},
	} {
		s, _ := time.Parse(dateLayout, c.start)
		if got := termEnd(s, c.unit).Format(dateLayout); got != c.end {
			t.Errorf("%s %s: %s, want %s", c.start, c.unit, got, c.end)
		}
	}
}

// §4.2: omit quantity on plans that are not per-seat; a quantity sent for
// one is a quantity mismatch (400) and the subscription stays pending.
func TestActivateQuantityOnlyOnPerSeatPlans(t *testing.T) {
	e := newEnv(t, 100)
	id, _ := e.purchase("flat", 0)
	if resp, _ := e.call("POST", "/saas/subscriptions/"+id+"/activate", map[string]any{"planId": "flat", "quantity": 1}, nil); resp.StatusCode != 400 {
		t.Fatalf("quantity on a flat plan: %d", resp.StatusCode)
	}
	if s, _ := e.mp.Get(id); s.Status != StatusPendingFulfillmentStart {
		t.Fatalf("status %s", s.Status)
	}
	if resp, b := e.call("POST", "/saas/subscriptions/"+id+"/activate", map[string]any{"planId": "flat"}, nil); resp.StatusCode != 200 {
		e.e(resp, b)
	}
}

// §6.1 Subscribe (listed in current revisions, "acknowledge"): with
// SubscribeWebhook, an activation is followed by a Succeeded Subscribe
// call that Get Operation confirms.
func TestSubscribeWebhook(t *testing.T) {
	e := newEnv(t, 100)
	e.mp.o.SubscribeWebhook = true
	var got []byte
	e.setHook(func(body []byte, _ string) int { got = body; return 200 })
	id := e.activated("silver", 5)
	e.mp.Tick()
	var p struct {
		ID, Action, Status, SubscriptionID string
		Subscription                       struct{ SaasSubscriptionStatus string }
	}
	if err := json.Unmarshal(got, &p); err != nil || p.Action != "Subscribe" || p.Status != OpSucceeded || p.SubscriptionID != id ||
		p.Subscription.SaasSubscriptionStatus != StatusSubscribed {
		t.Fatalf("webhook %s", got)
	}
	if resp, b := e.call("GET", "/saas/subscriptions/"+id+"/operations/"+p.ID, nil, nil); resp.StatusCode != 200 || !strings.Contains(string(b), `"action":"Subscribe"`) {
		t.Fatalf("get operation %d %s", resp.StatusCode, b)
	}
}

// The fake tells a sender's mistakes about one event per resource,
// dimension and hour (M1): an event sent while the same event is still in
// flight in another call is reported, whatever Microsoft then answers
// (Duplicate here), and every arrival is counted.
func TestMeteringInFlight(t *testing.T) {
	e := newEnv(t, 100)
	id := e.activated("silver", 5)
	ev := func(dim, eff string) map[string]any {
		return map[string]any{"resourceId": id, "quantity": 3.0, "dimension": dim, "effectiveStartTime": eff, "planId": "silver"}
	}
	// The first call's latency sends the same event (another minute of the
	// same hour) and another one while the first is in flight.
	var first atomic.Bool
	e.mp.SetLatency(func() {
		if first.CompareAndSwap(false, true) {
			if resp, b := e.call("POST", "/usageEvent", ev("api_calls", "2026-06-02T08:30:00Z"), nil); resp.StatusCode != 200 {
				e.e(resp, b)
			}
		}
	})
	resp, b := e.call("POST", "/batchUsageEvent", map[string]any{"request": []any{ev("api_calls", "2026-06-02T08:00:00Z"), ev("email", "2026-06-02T08:00:00Z")}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(b2s(b), `"Duplicate"`) {
		t.Fatalf("batch %d %s", resp.StatusCode, b)
	}
	key := id + "|api_calls|2026-06-02T08:00:00Z"
	if o := e.mp.InFlightOverlaps(); len(o) != 1 || o[0] != key {
		t.Fatalf("overlaps %v", o)
	}
	if r := e.mp.Received(); len(r) != 2 || r[key] != 2 || r[id+"|email|2026-06-02T08:00:00Z"] != 1 {
		t.Fatalf("received %v", r)
	}
	// Answered: nothing is in flight any more.
	e.mp.SetLatency(nil)
	e.call("POST", "/usageEvent", ev("api_calls", "2026-06-02T08:45:00Z"), nil)
	if o := e.mp.InFlightOverlaps(); len(o) != 1 {
		t.Fatalf("overlaps after the answers %v", o)
	}
}

func b2s(b []byte) string { return string(b) }
