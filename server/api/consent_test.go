package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

const (
	scopeDirectory = "https://graph.microsoft.com/Directory.Read.All"
	scopeOwnAPI    = "api://" + msClient + "/.default"
)

// consentWorld: the seller's Microsoft offer asks for two permissions; a
// buyer landed and is the customer admin of an active subscription.
type consentWorld struct {
	*azureEnv
	seller *browser
	admin  *browser // the customer admin, signed in by the landing page
	who    azurefake.Party
	subID  uint
	key    string // the seller app's API key
}

func newConsentWorld(t *testing.T, st *store.Store, plan string, seats int) *consentWorld {
	t.Helper()
	e := newAzureEnv(t, st)
	w := &consentWorld{azureEnv: e}
	e.user("seller@acme.example", store.RoleAdmin, nil)
	w.seller = e.login("seller@acme.example")
	var offer store.Offer
	must(t, st.TestingReadDB(t).Where("marketplace_id = ?", msOffer).First(&offer).Error)
	body := fmt.Sprintf(`{"permissions":[{"scope":%q,"reason":"To list your organisation's groups when you assign seats."},{"scope":%q,"reason":"To call our reporting API for your tenant."}]}`,
		"Directory.Read.All", scopeOwnAPI)
	if r := w.seller.do(http.MethodPatch, fmt.Sprintf("/api/offers/%d", offer.ID), body, nil); r.code != 200 ||
		!strings.Contains(string(r.body), scopeDirectory) {
		t.Fatalf("offer permissions: %d %s", r.code, r.body)
	}
	now := time.Now().UTC()
	must(t, st.TestingDB(t).Create(&store.WebhookEndpoint{URL: "https://hooks.acme.example/marketgate", Secret: "whsec_x", EventTypes: "*",
		Enabled: true, CreatedAt: now, UpdatedAt: now}).Error)
	key, prefix := auth.NewAPIKey()
	must(t, st.CreateAPIKey(context.Background(), &store.APIKey{Name: "app", Prefix: prefix}, key))
	w.key = key

	msID, token, who := e.buy(plan, seats)
	w.admin, w.who = &browser{e: e.env}, who
	if r := e.land(w.admin, token, who); r.code != http.StatusSeeOther {
		t.Fatalf("landing: %d %s", r.code, r.body)
	}
	sub := e.ours(msID)
	if sub.State != "active" {
		t.Fatalf("subscription %s", sub.State)
	}
	w.subID = sub.ID
	return w
}

type permissionsResp struct {
	CanGrant    bool   `json:"can_grant"`
	Blocked     string `json:"blocked"`
	TenantID    string `json:"tenant_id"`
	Permissions []struct {
		Scope, Resource, Name, Reason string
	} `json:"permissions"`
	Consent struct {
		Status           string     `json:"status"`
		Requested        []string   `json:"requested"`
		Granted          []string   `json:"granted"`
		LastDecision     string     `json:"last_decision"`
		DecidedBy        string     `json:"decided_by"`
		GrantedAt        *time.Time `json:"granted_at"`
		Error            string     `json:"error"`
		ErrorDescription string     `json:"error_description"`
	} `json:"consent"`
}

func (w *consentWorld) permissions(b *browser) permissionsResp {
	w.t.Helper()
	var out permissionsResp
	r := b.get(fmt.Sprintf("/api/my/subscriptions/%d/permissions", w.subID))
	if r.code != 200 {
		w.t.Fatalf("permissions: %d %s", r.code, r.body)
	}
	r.json(w.t, &out)
	return out
}

// grant presses "Grant permissions" and returns Entra's admin consent URL.
func (w *consentWorld) grant(b *browser) *url.URL {
	w.t.Helper()
	r := b.do(http.MethodPost, fmt.Sprintf("/api/my/subscriptions/%d/permissions/grant", w.subID), "", nil)
	if r.code != 200 {
		w.t.Fatalf("grant: %d %s", r.code, r.body)
	}
	var out struct {
		RedirectURL string `json:"redirect_url"`
	}
	r.json(w.t, &out)
	u, err := url.Parse(out.RedirectURL)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// entra walks the simulated Entra's admin consent page (accept or cancel)
// and returns where Entra sends the browser back (a path of ours).
func (w *consentWorld) entra(consentURL *url.URL, decision string) string {
	w.t.Helper()
	c := w.esrv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page, err := c.Get(consentURL.String())
	if err != nil {
		w.t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 {
		w.t.Fatalf("consent page: %d", page.StatusCode)
	}
	form := consentURL.Query()
	form.Set("decision", decision)
	u := *consentURL
	u.RawQuery = ""
	res, err := c.PostForm(u.String(), form)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || back.Host != "portal.test" {
		w.t.Fatalf("entra answered %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return back.RequestURI()
}

func (w *consentWorld) v1(path string) map[string]any {
	w.t.Helper()
	r := (&browser{e: w.env}).do(http.MethodGet, path, "", map[string]string{"Authorization": "Bearer " + w.key})
	if r.code != 200 {
		w.t.Fatalf("%s: %d %s", path, r.code, r.body)
	}
	var out map[string]any
	must(w.t, json.Unmarshal(r.body, &out))
	return out
}

func (w *consentWorld) events(kind string) []store.Event {
	var evs []store.Event
	w.st.TestingReadDB(w.t).Where("type = ? AND subscription_id = ?", kind, w.subID).Find(&evs)
	return evs
}

// The landing page signs the buyer in with User.Read alone: nothing an
// administrator must consent to before activation (the marketplace's rule).
func TestLandingAsksOnlyUserRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		for _, start := range []string{"/marketplace/azure/landing?token=some-purchase-token", "/auth/microsoft"} {
			r := (&browser{e: e.env}).get(start)
			loc, err := url.Parse(r.hdr.Get("Location"))
			if r.code != http.StatusFound || err != nil {
				t.Fatalf("%s: %d %s", start, r.code, r.body)
			}
			if got := loc.Query().Get("scope"); got != "openid profile email User.Read" {
				t.Errorf("%s asks for %q, want exactly openid profile email User.Read", start, got)
			}
			if strings.Contains(loc.Path, "adminconsent") || loc.Query().Get("prompt") == "admin_consent" {
				t.Errorf("%s asks for admin consent: %s", start, loc)
			}
		}
	})
}

// A Microsoft buyer's organisation is named as Microsoft Graph names their
// tenant (GET /organization with User.Read), not after their e-mail domain;
// a purchaser of another tenant (a reseller) does not name the customer,
// which keeps the domain and says so.
func TestMicrosoftOrganisationName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, who := e.buy("auto", 0)
		e.land(&browser{e: e.env}, token, who) // the sign-in page's organisation: "Contoso"
		var cust store.Customer
		must(t, st.TestingReadDB(t).First(&cust, *e.ours(msID).CustomerID).Error)
		if cust.Name != "Contoso" || cust.NameSource != store.NameFromGraph {
			t.Fatalf("customer named %q (%s), want Contoso from Microsoft Graph", cust.Name, cust.NameSource)
		}
		e.user("seller@acme.example", store.RoleAdmin, nil)
		var ans struct {
			Customer struct {
				Name       string `json:"name"`
				NameSource string `json:"name_source"`
			} `json:"customer"`
		}
		e.login("seller@acme.example").get(fmt.Sprintf("/api/customers/%d", cust.ID)).json(t, &ans)
		if ans.Customer.NameSource != "graph_organization" {
			t.Fatalf("the customer page does not say where the name came from: %+v", ans)
		}

		// Bought by a reseller for another organisation.
		beneficiary := azurefake.Party{EmailID: "it@northwind.example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
		reseller := azurefake.Party{EmailID: "buyer@reseller.example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
		msID, token, err := e.mk.Purchase(msOffer, "auto", 0, reseller, beneficiary, "Northwind")
		must(t, err)
		e.land(&browser{e: e.env}, token, reseller)
		cust = store.Customer{}
		must(t, st.TestingReadDB(t).First(&cust, *e.ours(msID).CustomerID).Error)
		if cust.Name != "northwind.example" || cust.NameSource != store.NameFromEmailDomain {
			t.Fatalf("reseller's purchase: customer named %q (%s)", cust.Name, cust.NameSource)
		}
		// The beneficiary's own administrator signs in later: Graph names it.
		e.land(&browser{e: e.env}, token, beneficiary)
		cust = store.Customer{}
		must(t, st.TestingReadDB(t).First(&cust, *e.ours(msID).CustomerID).Error)
		if cust.Name != "Contoso" || cust.NameSource != store.NameFromGraph {
			t.Fatalf("after the beneficiary's sign-in: %q (%s)", cust.Name, cust.NameSource)
		}
	})
}

func TestOfferPermissionsValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("seller@acme.example", store.RoleAdmin, nil)
		b := e.login("seller@acme.example")
		var created struct {
			Offer struct{ ID uint } `json:"offer"`
		}
		b.do(http.MethodPost, "/api/offers", `{"marketplace":"azure","name":"Acme","marketplace_id":"acme"}`, nil).json(t, &created)
		var aws struct {
			Offer struct{ ID uint } `json:"offer"`
		}
		b.do(http.MethodPost, "/api/offers", `{"marketplace":"aws","name":"Acme","marketplace_id":"acme1","identity_model":"legacy"}`, nil).json(t, &aws)
		path := fmt.Sprintf("/api/offers/%d", created.Offer.ID)
		for _, tc := range []struct{ name, body, want string }{
			{"no scope", `[{"scope":"","reason":"x"}]`, "has no scope"},
			{"no reason", `[{"scope":"Directory.Read.All","reason":""}]`, "needs a reason"},
			{"not a scope", `[{"scope":"read everything","reason":"x"}]`, "is not a scope"},
			{"sign-in scope", `[{"scope":"User.Read","reason":"x"}]`, "asked at sign-in already"},
			{"twice", `[{"scope":"Directory.Read.All","reason":"x"},{"scope":"https://graph.microsoft.com/Directory.Read.All","reason":"y"}]`, "listed twice"},
		} {
			r := b.do(http.MethodPatch, path, `{"permissions":`+tc.body+`}`, nil)
			if r.code != 400 || !strings.Contains(string(r.body), `"invalid_permission"`) || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%s: %d %s", tc.name, r.code, r.body)
			}
		}
		if r := b.do(http.MethodPatch, fmt.Sprintf("/api/offers/%d", aws.Offer.ID), `{"permissions":[{"scope":"Directory.Read.All","reason":"x"}]}`, nil); r.code != 400 ||
			!strings.Contains(string(r.body), "Microsoft offers only") {
			t.Errorf("AWS offer: %d %s", r.code, r.body)
		}
		// Valid: a Graph short name becomes its full scope; the order is kept; [] clears.
		r := b.do(http.MethodPatch, path, `{"permissions":[{"scope":"api://0b2c4d6e-1111-4222-8333-944455556666/access_as_user","reason":"Our API"},{"scope":"Mail.Send","reason":"Send reports"}]}`, nil)
		var got struct {
			Offer struct {
				Permissions []struct{ Scope, Resource, Name, Reason string } `json:"permissions"`
			} `json:"offer"`
		}
		r.json(t, &got)
		if r.code != 200 || len(got.Offer.Permissions) != 2 || got.Offer.Permissions[1].Scope != "https://graph.microsoft.com/Mail.Send" ||
			got.Offer.Permissions[1].Resource != "Microsoft Graph" || got.Offer.Permissions[0].Name != "access_as_user" {
			t.Fatalf("valid: %d %s", r.code, r.body)
		}
		if r := b.do(http.MethodPatch, path, `{"name":"Acme 2"}`, nil); !strings.Contains(string(r.body), "Mail.Send") {
			t.Fatalf("a PATCH without permissions keeps them: %s", r.body)
		}
		if r := b.do(http.MethodPatch, path, `{"permissions":[]}`, nil); r.code != 200 || !strings.Contains(string(r.body), `"permissions":[]`) {
			t.Fatalf("clear: %d %s", r.code, r.body)
		}
	})
}

func TestAdminConsentGranted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newConsentWorld(t, st, "seats", 5)
		p := w.permissions(w.admin)
		if !p.CanGrant || p.Consent.Status != "not_asked" || len(p.Permissions) != 2 || p.Permissions[0].Scope != scopeDirectory ||
			!strings.Contains(p.Permissions[0].Reason, "groups") {
			t.Fatalf("before: %+v", p)
		}
		// Nothing is recorded yet for the seller's app. (The seat check
		// keeps the consent it read per subscription; checkGrantRecorded
		// shows the next check after the grant sees it.)
		if c := w.v1("/api/v1/access?customer=" + w.who.TenantID)["consent"].(map[string]any); c["status"] != "not_asked" {
			t.Fatalf("access before: %v", c)
		}
		sc := w.v1("/api/v1/seats/check?tenant_id=" + w.who.TenantID + "&email=" + url.QueryEscape(w.who.EmailID))
		if c, _ := sc["consent"].(map[string]any); c == nil || c["status"] != "not_asked" {
			t.Fatalf("seat check before: %v", sc)
		}

		consent := w.grant(w.admin)
		w.checkConsentURL(consent)
		back := w.entra(consent, "accept")
		r := w.admin.get(back)
		if r.code != http.StatusSeeOther || r.hdr.Get("Location") != fmt.Sprintf("/subscriptions/%d?tab=permissions&consent=granted", w.subID) {
			t.Fatalf("callback: %d %s %s", r.code, r.hdr.Get("Location"), r.body)
		}
		p = w.permissions(w.admin)
		if p.Consent.Status != "granted" || p.Consent.DecidedBy != w.who.EmailID || p.Consent.GrantedAt == nil || len(p.Consent.Granted) != 2 {
			t.Fatalf("after: %+v", p.Consent)
		}
		w.checkGrantRecorded()

		// The state works once.
		if r := w.admin.get(back); r.code != http.StatusBadRequest {
			t.Fatalf("replayed: %d %s", r.code, r.body)
		}
		if w.timeline(w.subID, "consent.granted") != 1 {
			t.Fatal("a replay recorded twice")
		}
	})
}

// checkConsentURL: Entra's documented admin consent endpoint for the
// customer's tenant, with the app, the offer's scopes, our redirect URI and
// a state.
func (w *consentWorld) checkConsentURL(consent *url.URL) {
	w.t.Helper()
	q := consent.Query()
	if consent.Path != "/"+strings.ToLower(w.who.TenantID)+"/v2.0/adminconsent" || q.Get("client_id") != msClient ||
		q.Get("scope") != scopeDirectory+" "+scopeOwnAPI || q.Get("redirect_uri") != "http://portal.test/auth/microsoft/adminconsent" || len(q.Get("state")) < 32 {
		w.t.Fatalf("admin consent URL %s", consent)
	}
}

// checkGrantRecorded: the grant is recorded per tenant, on the timeline,
// as an outbound event, for the seller, and in the seller app's answers.
func (w *consentWorld) checkGrantRecorded() {
	t, st := w.t, w.st
	t.Helper()
	// Recorded per tenant, on the timeline, as an outbound event, for the seller.
	var tc store.TenantConsent
	must(t, st.TestingReadDB(t).Where("tenant_id = ?", strings.ToLower(w.who.TenantID)).First(&tc).Error)
	if tc.Status != store.ConsentGranted || tc.Scopes != scopeDirectory+" "+scopeOwnAPI || tc.DecidedByUserID == nil {
		t.Fatalf("tenant consent %+v", tc)
	}
	if w.timeline(w.subID, "consent.granted") != 1 || len(w.events("consent.granted")) != 1 {
		t.Fatalf("timeline %d, events %d", w.timeline(w.subID, "consent.granted"), len(w.events("consent.granted")))
	}
	if ev := w.events("consent.granted")[0]; !strings.Contains(ev.Data, `"decision":"granted"`) || !strings.Contains(ev.Data, scopeDirectory) {
		t.Fatalf("event data %s", ev.Data)
	}
	var detail struct {
		Consent *struct{ Status string } `json:"consent"`
	}
	w.seller.get(fmt.Sprintf("/api/subscriptions/%d", w.subID)).json(t, &detail)
	if detail.Consent == nil || detail.Consent.Status != "granted" {
		t.Fatalf("seller's subscription page: %+v", detail.Consent)
	}
	// The seller's app reads it in the access and seat-check answers.
	c := w.v1("/api/v1/access?customer=" + w.who.TenantID)["consent"].(map[string]any)
	if c["status"] != "granted" || c["granted_at"] == nil || len(c["scopes"].([]any)) != 2 {
		t.Fatalf("access: %v", c)
	}
	sc := w.v1("/api/v1/seats/check?tenant_id=" + w.who.TenantID + "&email=" + url.QueryEscape(w.who.EmailID))
	if c, _ := sc["consent"].(map[string]any); c == nil || c["status"] != "granted" {
		t.Fatalf("seat check: %v", sc)
	}
}

func TestAdminConsentDeclined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newConsentWorld(t, st, "auto", 0)
		back := w.entra(w.grant(w.admin), "cancel")
		r := w.admin.get(back)
		if r.code != http.StatusSeeOther || r.hdr.Get("Location") != fmt.Sprintf("/subscriptions/%d?tab=permissions&consent=declined", w.subID) {
			t.Fatalf("callback: %d %s", r.code, r.hdr.Get("Location"))
		}
		p := w.permissions(w.admin)
		if p.Consent.Status != "declined" || p.Consent.Error != "access_denied" || !strings.Contains(p.Consent.ErrorDescription, "AADSTS65004") ||
			p.Consent.DecidedBy != w.who.EmailID || len(p.Consent.Granted) != 0 || !p.CanGrant {
			t.Fatalf("declined: %+v", p)
		}
		if w.timeline(w.subID, "consent.declined") != 1 || len(w.events("consent.declined")) != 1 {
			t.Fatal("no timeline entry or event for the decline")
		}
		if c := w.v1("/api/v1/access?customer=" + w.who.TenantID)["consent"].(map[string]any); c["status"] != "declined" || c["granted_at"] != nil {
			t.Fatalf("access: %v", c)
		}
		// Asked again, granted: the tenant's latest outcome wins.
		w.admin.get(w.entra(w.grant(w.admin), "accept"))
		if p := w.permissions(w.admin); p.Consent.Status != "granted" || p.Consent.Error != "" {
			t.Fatalf("granted after a decline: %+v", p.Consent)
		}
	})
}

// The state is ours: a forged one, a replayed one, an expired one, or one
// brought by another signed-in user (or another session of the same user)
// records nothing.
func TestAdminConsentStateRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newConsentWorld(t, st, "auto", 0)
		tenant := strings.ToLower(w.who.TenantID)
		forged := "/auth/microsoft/adminconsent?admin_consent=True&tenant=" + tenant + "&scope=x&state=forged-state"
		if r := w.admin.get(forged); r.code != http.StatusBadRequest {
			t.Fatalf("forged: %d", r.code)
		}
		if r := w.admin.get("/auth/microsoft/adminconsent?admin_consent=True&tenant=" + tenant); r.code != http.StatusBadRequest {
			t.Fatalf("no state: %d", r.code)
		}

		// Another user: the seller's admin, then a colleague customer admin.
		consent := w.grant(w.admin)
		back := w.entra(consent, "accept")
		if r := w.seller.get(back); r.code != http.StatusForbidden {
			t.Fatalf("another user: %d %s", r.code, r.body)
		}
		if r := (&browser{e: w.env}).get(back); r.code != http.StatusForbidden {
			t.Fatalf("signed out: %d", r.code)
		}
		// Another tenant in Entra's answer than the one asked.
		other := strings.Replace(back, "tenant="+tenant, "tenant="+azuremp.NewGUID(), 1)
		if r := w.admin.get(other); r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "another organisation") {
			t.Fatalf("other tenant: %d %s", r.code, r.body)
		}
		var n int64
		st.TestingReadDB(t).Model(&store.TenantConsent{}).Count(&n)
		if n != 0 {
			t.Fatal("a refused answer was recorded")
		}
		// The right session still completes it (the refusals did not use it up).
		if r := w.admin.get(back); r.code != http.StatusSeeOther {
			t.Fatalf("the admin's own: %d %s", r.code, r.body)
		}

		// Expired.
		back = w.entra(w.grant(w.admin), "accept")
		must(t, st.TestingDB(t).Model(&store.ConsentRequest{}).Where("used_at IS NULL").Update("expires_at", time.Now().UTC().Add(-time.Minute)).Error)
		if r := w.admin.get(back); r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "expired") {
			t.Fatalf("expired: %d %s", r.code, r.body)
		}
		if w.timeline(w.subID, "consent.granted") != 1 {
			t.Fatalf("granted %d times", w.timeline(w.subID, "consent.granted"))
		}
	})
}

// Only customer admins ask, only for their own subscriptions, only after
// activation, only for Microsoft subscriptions whose offer asks for more.
func TestAdminConsentWho(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newConsentWorld(t, st, "auto", 0)
		path := fmt.Sprintf("/api/my/subscriptions/%d/permissions", w.subID)
		if r := w.seller.get(path); r.code != http.StatusForbidden {
			t.Fatalf("seller staff: %d", r.code)
		}
		if r := w.seller.do(http.MethodPost, path+"/grant", "", nil); r.code != http.StatusForbidden {
			t.Fatalf("seller staff grant: %d", r.code)
		}
		// Pending (the seller approves): the button waits for activation.
		msID, token, who := w.buy("approve", 0)
		b := &browser{e: w.env}
		w.land(b, token, who)
		pending := w.ours(msID)
		var p permissionsResp
		b.get(fmt.Sprintf("/api/my/subscriptions/%d/permissions", pending.ID)).json(t, &p)
		if p.CanGrant || p.Blocked != "not_active" {
			t.Fatalf("pending: %+v", p)
		}
		r := b.do(http.MethodPost, fmt.Sprintf("/api/my/subscriptions/%d/permissions/grant", pending.ID), "", nil)
		if r.code != http.StatusConflict || !strings.Contains(string(r.body), `"consent_unavailable"`) {
			t.Fatalf("grant while pending: %d %s", r.code, r.body)
		}
		// That buyer (another organisation) cannot see the first one's.
		if r := b.get(path); r.code != http.StatusNotFound || strings.Contains(string(r.body), w.who.TenantID) {
			t.Fatalf("another organisation's: %d %s", r.code, r.body)
		}
		if r := b.do(http.MethodPost, path+"/grant", "", nil); r.code != http.StatusNotFound {
			t.Fatalf("another organisation's grant: %d %s", r.code, r.body)
		}
	})
}
