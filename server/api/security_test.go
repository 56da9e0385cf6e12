package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/sandbox/console"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Issue 15, finding 1: "Accept only a path on this site, parsed and
// re-serialised; refuse control characters and backslashes."
func TestSafeNextKeepsRedirectsOnThisSite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/subscriptions", "/subscriptions"},
		{"/subscriptions/4?tab=seats", "/subscriptions/4?tab=seats"},
		{"/subscriptions/4?tab=seats#top", "/subscriptions/4?tab=seats#top"},
		{"/a b", "/a%20b"},
		{"/caf\u00e9", "/caf%C3%A9"},
		{"//evil.example", "/"},
		{"//evil.example/", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/%0d%0a/evil.example", "/"},
		{"/x\r\nSet-Cookie: a=b", "/"},
		{"/x?a=%0d%0aSet-Cookie:%20a=b", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/x\x00", "/"},
		{"/x\x7f", "/"},
		{"/x\u0085", "/"},
		{"https://evil.example", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,x", "/"},
		{"evil.example", "/"},
		{" /x", "/"},
		{"/x\xff", "/"},
	} {
		if got := api.SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Finding 1 through the handlers: GET /auth/microsoft?next=/%09/evil.example
// used to end in "303 Location: /\t/evil.example" (browsers land on
// //evil.example). Each variant now ends on "/", a good path is kept.
func TestMicrosoftSignInNextStaysOnSite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		who := azurefake.Party{EmailID: "ann@contoso.example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
		cu := store.Customer{Name: "Contoso", AzureTenantID: who.TenantID, CreatedAt: e.now, UpdatedAt: e.now}
		must(t, st.TestingDB(t).Create(&cu).Error)
		must(t, st.TestingDB(t).Create(&store.User{Email: who.EmailID, Role: store.RoleCustomerAdmin, CustomerID: &cu.ID,
			EntraObjectID: who.ObjectID}).Error)
		for raw, want := range map[string]string{
			"/%09/evil.example":            "/",
			"//evil.example":               "/",
			"/%5Cevil.example":             "/",
			"/%252F%252Fevil.example":      "/",
			"https://evil.example":         "/",
			"javascript:alert(1)":          "/",
			"/x%0D%0ALocation:%20//evil":   "/",
			"/subscriptions%3Ftab%3Dseats": "/subscriptions?tab=seats",
		} {
			b := &browser{e: e.env}
			r := e.signInWithEntra(b, "/auth/microsoft?next="+raw, who)
			if r.code != http.StatusSeeOther || r.hdr.Get("Location") != want {
				t.Errorf("next=%s: %d Location %q, want %q", raw, r.code, r.hdr.Get("Location"), want)
			}
		}
		// The path kept while the browser is at Microsoft is already the safe one.
		b := &browser{e: e.env}
		if r := b.get("/auth/microsoft?next=" + url.QueryEscape("/\\evil.example")); r.code != http.StatusFound {
			t.Fatalf("start: %d", r.code)
		}
		var si store.AzureSignIn
		must(t, st.TestingDB(t).Order("id DESC").First(&si).Error)
		if si.NextPath != "/" {
			t.Fatalf("stored next path %q", si.NextPath)
		}
	})
}

// Issue 15, findings 4 and 11: "POST /marketplace/aws/register stores any
// body up to 1 MiB as a failed inbox row without a token"; "the AWS
// registration token stays in the stored inbox body and the viewer role
// can read it". No token: no row. A token: only the documented fields,
// bounded, the token itself not kept. Per client, a few per minute.
func TestAWSRegisterStoresOnlyBoundedUsefulData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		rows := func() int64 { return inboxCount(t, st) }
		junk := url.Values{"x": {strings.Repeat("A", 900<<10)}}
		if r := e.register(junk); r.code != http.StatusBadRequest {
			t.Fatalf("junk: %d", r.code)
		}
		if r := e.register(url.Values{"comment": {"no token here"}}); r.code != http.StatusBadRequest {
			t.Fatalf("no token: %d", r.code)
		}
		if r := e.register(url.Values{"x-amzn-marketplace-token": {strings.Repeat("t", 5000)}}); r.code != http.StatusBadRequest {
			t.Fatalf("oversized token: %d", r.code)
		}
		if n := rows(); n != 0 {
			t.Fatalf("%d inbox rows stored without a usable token", n)
		}

		token := e.fake.IssueToken(caBuyer)
		form := url.Values{"x-amzn-marketplace-token": {token}, "x-amzn-marketplace-offer-type": {"free-trial"}, "extra": {strings.Repeat("B", 10000)}}
		if r := e.register(form); r.code != http.StatusSeeOther {
			t.Fatalf("register: %d %s", r.code, r.body)
		}
		var m store.InboxMessage
		must(t, st.TestingDB(t).Where("source = ?", "aws_registration").First(&m).Error)
		if strings.Contains(m.Body, token) || strings.Contains(m.Body, "BBBB") || len(m.Body) > 200 ||
			!strings.Contains(m.Body, "x-amzn-marketplace-offer-type=free-trial") {
			t.Fatalf("stored body %q", m.Body)
		}
		// The viewer role reads the inbox: no token there.
		e.user("viewer@seller.example", store.RoleViewer, nil)
		v := e.login("viewer@seller.example")
		if r := v.get(fmt.Sprintf("/api/inbox/%d", m.ID)); r.code != 200 || strings.Contains(string(r.body), token) {
			t.Fatalf("inbox as viewer: %d %s", r.code, r.body)
		}
	})
}

func TestPublicEndpointsRateLimitedPerClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		for _, c := range []struct {
			path string
			n    int
		}{{"/marketplace/azure/landing?token=abc", 30}, {"/auth/microsoft", 30}} {
			b := &browser{e: e.env, ip: "198.51.100.30"}
			for i := 0; i < c.n; i++ {
				if r := b.get(c.path); r.code != http.StatusFound {
					t.Fatalf("%s #%d: %d", c.path, i, r.code)
				}
			}
			r := b.get(c.path)
			if r.code != http.StatusTooManyRequests || r.hdr.Get("Retry-After") == "" {
				t.Fatalf("%s over the allowance: %d", c.path, r.code)
			}
			if r := (&browser{e: e.env, ip: "198.51.100.31"}).get(c.path); r.code != http.StatusFound {
				t.Fatalf("%s from another client: %d", c.path, r.code)
			}
		}
		var n int64
		st.TestingDB(t).Model(&store.AzureSignIn{}).Count(&n)
		if n != 62 {
			t.Fatalf("%d sign-ins stored, want 62 (none past the allowance)", n)
		}
		// AWS registration: 20 per 10 minutes per client.
		a := newAWSEnv(t, st)
		for i := 0; i < 20; i++ {
			a.register(url.Values{"x-amzn-marketplace-token": {fmt.Sprintf("forged-%d", i)}})
		}
		if r := a.register(url.Values{"x-amzn-marketplace-token": {"forged-x"}}); r.code != http.StatusTooManyRequests {
			t.Fatalf("registration over the allowance: %d", r.code)
		}
	})
}

// Everything anonymous visitors create has a retention period, and
// abandoned Microsoft purchase tokens are blanked when their sign-in expires.
func TestRetentionPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		clk := &clock{t: time.Now().UTC()}
		st.Now = clk.now
		b := &browser{e: e.env}
		b.get("/marketplace/azure/landing?token=abandoned-purchase-token")
		b.get("/auth/microsoft")
		must(t, st.TestingDB(t).Create(&store.InboxMessage{Marketplace: "aws", Source: "aws_registration", DedupKey: "token:old",
			Status: store.InboxFailed, ReceivedAt: clk.now().Add(-31 * 24 * time.Hour)}).Error)
		must(t, st.TestingDB(t).Create(&store.InboxMessage{Marketplace: "aws", Source: "aws_registration", DedupKey: "token:new",
			Status: store.InboxFailed, ReceivedAt: clk.now()}).Error)
		must(t, st.TestingDB(t).Create(&store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: "sns:old",
			Status: store.InboxFailed, ReceivedAt: clk.now().Add(-31 * 24 * time.Hour)}).Error)
		_, err := st.ThrottleHit(context.Background(), "rate:test", time.Minute, time.Minute, clk.now())
		must(t, err)

		// Expired (15 minutes): the purchase token goes at once.
		clk.add(16 * time.Minute)
		p1, err := st.Purge(context.Background(), store.DefaultRetention)
		must(t, err)
		if p1.PurchaseTokens != 1 || p1.FailedRegistrations != 1 || p1.SignIns != 0 {
			t.Fatalf("first purge %+v", p1)
		}
		var left int64
		st.TestingDB(t).Model(&store.AzureSignIn{}).Where("purchase_token <> ''").Count(&left)
		if left != 0 {
			t.Fatalf("%d purchase tokens kept after their sign-in expired", left)
		}
		// A day later the rows and counters go.
		clk.add(25 * time.Hour)
		p, err := st.Purge(context.Background(), store.DefaultRetention)
		must(t, err)
		if p.SignIns != 2 || p.FailedRegistrations != 0 || p.Throttles < 1 {
			t.Fatalf("purged %+v", p)
		}
		if n := inboxCount(t, st); n != 2 {
			t.Fatalf("%d inbox rows left, want the recent registration and the SQS message", n)
		}
	})
}

// Finding 11: "session ids are stored unhashed". The table holds the
// SHA-256 of the cookie's id; a row's key used as a cookie signs nobody in.
func TestSessionIDsStoredHashed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("a@example.com", store.RoleAdmin, nil)
		b := e.login("a@example.com")
		codec := securecookie.New([]byte(strings.Repeat("s", 64)), nil)
		codec.SetSerializer(securecookie.GobEncoder{})
		var id string
		must(t, codec.Decode(api.SessionCookie, strings.TrimPrefix(b.cookie, api.SessionCookie+"="), &id))
		var rows []store.Session
		must(t, st.TestingDB(t).Find(&rows).Error)
		if len(rows) != 1 || rows[0].ID == id || rows[0].ID != store.SessionKey(id) {
			t.Fatalf("stored session id %q for cookie id %q", rows[0].ID, id)
		}
		forged, err := codec.Encode(api.SessionCookie, rows[0].ID)
		must(t, err)
		thief := &browser{e: e, cookie: api.SessionCookie + "=" + forged}
		if r := thief.get("/api/auth/me"); r.code != http.StatusUnauthorized {
			t.Fatalf("the stored key works as a session id: %d", r.code)
		}
		// Signing out removes the row.
		b.do("POST", "/api/auth/logout", "", nil)
		if n := len(rows); n != 1 || b.get("/api/auth/me").code != http.StatusUnauthorized {
			t.Fatal("still signed in")
		}
		var n int64
		st.TestingDB(t).Model(&store.Session{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d sessions after sign-out", n)
		}
	})
}

func inboxCount(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var n int64
	must(t, st.TestingDB(t).Model(&store.InboxMessage{}).Count(&n).Error)
	return n
}

// Issue 15, finding 12: "a webhook token issued in the future is
// accepted". iat is checked with the same 5 minutes of skew as exp and nbf.
func TestWebhookTokenIssuedInTheFutureRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, who := e.buy("seats", 5)
		e.land(&browser{e: e.env}, token, who)
		now := time.Now()
		claims := map[string]any{"iss": e.entra.Issuer(msTenant), "aud": msClient, "tid": msTenant, "azp": azuremp.Resource,
			"appid": azuremp.Resource, "iat": now.Add(2 * time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(3 * time.Hour).Unix()}
		body := fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Suspend","status":"Succeeded","timeStamp":"2026-06-02T09:12:03.3851234Z"}`, azuremp.NewGUID(), msID)
		r := (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/webhook", body,
			map[string]string{"Authorization": "Bearer " + e.entra.Sign(claims), "Sec-Fetch-Site": ""})
		r.errCode(t, http.StatusUnauthorized, "unauthenticated")
		// Within the skew it is still accepted (clocks differ a little).
		claims["iat"] = now.Add(time.Minute).Unix()
		r = (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/webhook", body,
			map[string]string{"Authorization": "Bearer " + e.entra.Sign(claims), "Sec-Fetch-Site": ""})
		if r.code == http.StatusUnauthorized {
			t.Fatalf("a token issued a minute ahead was refused: %s", r.body)
		}
	})
}

// Finding 12: "PATCH /api/offers/1 with body null answers 200 and writes
// an audit row" — now 400 invalid_input, nothing audited.
func TestPatchWithNullBodyRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("a@example.com", store.RoleAdmin, nil)
		b := e.login("a@example.com")
		r := b.do(http.MethodPost, "/api/offers", `{"marketplace":"aws","name":"Acme","marketplace_id":"prod1","identity_model":"legacy"}`, nil)
		if r.code != http.StatusCreated {
			t.Fatalf("create offer: %d %s", r.code, r.body)
		}
		var audits, after int64
		st.TestingDB(t).Model(&store.AuditEntry{}).Count(&audits)
		var o struct{ ID uint }
		r.json(t, &o)
		for _, body := range []string{"null", " null ", "\tnull\n"} {
			b.do(http.MethodPatch, fmt.Sprintf("/api/offers/%d", o.ID), body, nil).errCode(t, http.StatusBadRequest, "invalid_input")
		}
		st.TestingDB(t).Model(&store.AuditEntry{}).Count(&after)
		if after != audits {
			t.Fatalf("%d audit rows written for null bodies", after-audits)
		}
	})
}

// Finding 12: "aaaaaaaaaa and ten NUL characters pass" the password rule;
// control characters are refused wherever a name is typed.
func TestPasswordAndNameRules(t *testing.T) {
	for _, pw := range []string{"aaaaaaaaaa", strings.Repeat("\x00", 10), "password123", "Password1!", "qwertyuiop", "1234567890",
		"Summer2024!", "iloveyou12", "letmein2024", "correct-horse\x07battery"} {
		if err := auth.CheckPasswordRules(pw); err == nil {
			t.Errorf("%q accepted", pw)
		}
	}
	if err := auth.CheckPasswordRules("ann.smith@contoso.example", "ann.smith@contoso.example"); err == nil {
		t.Error("the e-mail address as password accepted")
	}
	for _, pw := range []string{testPassword, "staff-password-e2e-43", "zq8#Lp2vX!-x"} {
		if err := auth.CheckPasswordRules(pw); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.user("a@example.com", store.RoleAdmin, nil)
		b := e.login("a@example.com")
		r := b.do(http.MethodPost, "/api/offers", `{"marketplace":"aws","name":"Acme\r\nX","marketplace_id":"prod1","identity_model":"legacy"}`, nil)
		r.errCode(t, 400, "invalid_input")
		if !strings.Contains(string(r.body), "control characters") {
			t.Errorf("offer refused for another reason: %s", r.body)
		}
		for _, r := range []resp{
			b.do(http.MethodPost, "/api/users", `{"email":"x@example.com","name":"X\u0000Y","role":"viewer"}`, nil),
			b.do(http.MethodPatch, fmt.Sprintf("/api/users/%d", admin.ID), `{"name":"Ann\u001b[2J"}`, nil),
			b.do(http.MethodPost, "/api/alerts/channels", `{"kind":"email","name":"Ops\u0000","target":"ops@example.com","alert_types":[]}`, nil),
		} {
			r.errCode(t, 400, "invalid_input")
			if !strings.Contains(string(r.body), "control characters") {
				t.Errorf("refused for another reason: %s", r.body)
			}
		}
		b.do(http.MethodPost, "/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"aaaaaaaaaa"}`, nil).errCode(t, 400, "invalid_input")
	})
}

// Finding 12: "/metrics is open to anyone" — with a token only the bearer reads it.
func TestMetricsToken(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newEnvWith(t, st, func(d *api.Deps) { d.MetricsToken = "scrape-secret" })
	b := &browser{e: e}
	for _, h := range []string{"", "Bearer wrong", "scrape-secret", "Bearer scrape-secret-and-more"} {
		if r := b.do(http.MethodGet, "/metrics", "", map[string]string{"Authorization": h}); r.code != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: %d", h, r.code)
		}
	}
	if r := b.do(http.MethodGet, "/metrics", "", map[string]string{"Authorization": "Bearer scrape-secret"}); r.code != 200 {
		t.Fatalf("with the token: %d", r.code)
	}
	off := newEnvWith(t, st, func(d *api.Deps) { d.MetricsElsewhere = true })
	if r := (&browser{e: off}).get("/metrics"); r.code != http.StatusNotFound {
		t.Fatal("metrics served although they live on their own address")
	}
}

// Issue 15, finding 10: "No Content-Security-Policy and no HSTS. A strict
// CSP on the portal and server pages (no inline script), HSTS when the
// base URL is https, frame-ancestors 'none', nosniff, Referrer-Policy."
func TestSecurityHeadersPerPageType(t *testing.T) {
	portal := fstest.MapFS{"index.html": {Data: []byte(`<!doctype html><script type="module" src="/assets/app.js"></script>`)},
		"assets/app.js": {Data: []byte(`console.log(1)`)}}
	inline := regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, base := range []string{"http://portal.test", "https://portal.example"} {
		st := storetest.Open(t, store.SQLite)
		e := newEnvWith(t, st, func(d *api.Deps) {
			d.Portal, d.Info.BaseURL = portal, base
			d.Sandbox = (&console.Console{Store: st, AWSMetering: awsfake.NewMetering(nil)}).Mount
		})
		b := &browser{e: e}
		for name, path := range map[string]string{
			"portal page": "/subscriptions", "portal asset": "/assets/app.js", "API": "/api/auth/me",
			"server page": "/invite?token=nope", "page asset": "/page-assets/page.css", "not found": "/api/nope",
			"metrics": "/metrics", "sandbox page": "/sandbox/aws",
		} {
			r := b.get(path)
			h := r.hdr
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s %s: CSP %q lacks %q", base, name, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("%s: CSP allows unsafe sources: %q", name, csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
				t.Errorf("%s: nosniff %q, Referrer-Policy %q", name, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
			}
			if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != strings.HasPrefix(base, "https") {
				t.Errorf("%s %s: HSTS %q", base, name, hsts)
			}
			if strings.HasPrefix(h.Get("Content-Type"), "text/html") && inline.Match(r.body) {
				t.Errorf("%s: inline script or style in the page: %s", name, inline.Find(r.body))
			}
		}
	}
	// The server pages' layout and the "portal not built" page link their
	// styles; the auto-post page its script.
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st, nil)
	r := (&browser{e: e}).get("/")
	if !strings.Contains(string(r.body), `href="/page-assets/page.css"`) || inline.Match(r.body) {
		t.Fatalf("not-built page: %s", r.body)
	}
	if r := (&browser{e: e}).get("/page-assets/autosubmit.js"); r.code != 200 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/javascript") {
		t.Fatalf("autosubmit.js: %d %s", r.code, r.hdr.Get("Content-Type"))
	}
}
