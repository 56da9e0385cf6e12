package main

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/marketgate/marketgate/server/sandbox/azurefake"
)

// --azure-simulated-entra without --sandbox, as a seller runs Marketgate
// against Microsoft's SaaS API emulator offline (README, "Test against
// Microsoft's SaaS API emulator"): a clean database (no demo data, no
// simulated marketplace), buyers sign in with the simulated Entra ID, the
// real Microsoft client talks to an emulator-like marketplace that checks
// no token, and webhooks come unsigned (--azure-webhook-insecure).
func TestSimulatedEntraWithoutTheSandbox(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	emuSrv := httptest.NewServer(http.NotFoundHandler())
	defer emuSrv.Close()
	emu := azurefake.NewMarketplace(azurefake.Options{Base: emuSrv.URL, PublisherID: "contoso",
		Offers: []azurefake.Offer{{OfferID: "emu-offer", Name: "Emulated offer", Plans: []azurefake.Plan{
			{PlanID: "gold", DisplayName: "Gold", PerSeat: true, MinQuantity: 1, MaxQuantity: 20}}}},
		Webhook: azurefake.HTTPWebhook(nil, base+"/marketplace/azure/webhook")})
	emuSrv.Config.Handler = emu

	s := startOn(t, addr, t.TempDir(), []string{"MARKETGATE_ADMIN_EMAIL=ops@example.com", "MARKETGATE_ADMIN_PASSWORD=end-to-end-password"},
		"--azure-simulated-entra", "--azure-api-url", emuSrv.URL, "--azure-webhook-insecure")
	if !strings.Contains(s.out.String(), "SIMULATED ENTRA ID IS ON") {
		t.Fatalf("no warning:\n%s", s.out)
	}
	c := client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		if !strings.HasPrefix(u, "http") {
			u = s.url + u
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r, string(b)
	}
	// Not the sandbox: no buyer pages, no simulated marketplace.
	if _, page := do(http.MethodGet, "/sandbox/azure", nil); strings.Contains(page, "buy on Microsoft") {
		t.Fatal("the sandbox's buyer page is served")
	}
	if _, page := do(http.MethodGet, "/sandbox/azure/api/saas/subscriptions?api-version=2018-08-31", nil); strings.Contains(page, `"subscriptions"`) {
		t.Fatal("the simulated marketplace is served")
	}

	// A purchase at the emulator: the purchaser is of another tenant than the beneficiary.
	purchaser := azurefake.Party{EmailID: "buyer@reseller.example", ObjectID: "0f0f0f0f-1111-4222-8333-444455556666", TenantID: "1a1a1a1a-1111-4222-8333-444455556666"}
	beneficiary := azurefake.Party{EmailID: "it@fabrikam.example", ObjectID: "2b2b2b2b-1111-4222-8333-444455556666", TenantID: "3c3c3c3c-1111-4222-8333-444455556666"}
	msID, token, err := emu.Purchase("emu-offer", "gold", 3, purchaser, beneficiary, "Fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := do(http.MethodGet, "/marketplace/azure/landing?token="+url.QueryEscape(token), nil)
	authorize := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(authorize, base+"/sandbox/azure/entra/organizations/oauth2/v2.0/authorize") {
		t.Fatalf("landing: %d %s", r.StatusCode, authorize)
	}
	_, page := do(http.MethodGet, authorize, nil)
	hidden := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		if hidden.Get(m[1]) == "" {
			hidden.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	if hidden.Get("state") == "" {
		t.Fatalf("sign-in page:\n%s", page)
	}
	hidden.Set("name", "Reseller Buyer")
	hidden.Set("email", purchaser.EmailID)
	hidden.Set("tenant_id", purchaser.TenantID)
	hidden.Set("object_id", purchaser.ObjectID)
	r, _ = do(http.MethodPost, authorize, hidden)
	callback := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(callback, "/marketplace/azure/callback?") {
		t.Fatalf("sign-in: %d %s", r.StatusCode, callback)
	}
	r, body := do(http.MethodGet, callback, nil)
	welcome := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(welcome, "/marketplace/azure/welcome?subscription=") {
		t.Fatalf("callback: %d %s\n%s\n%s", r.StatusCode, welcome, body, s.out)
	}
	if _, page = do(http.MethodGet, welcome, nil); !strings.Contains(page, "Administered by") || !strings.Contains(page, beneficiary.EmailID) {
		t.Fatalf("welcome:\n%s", page)
	}
	// The plan, unknown to a clean database, was learned and activated with its seats.
	if got, _ := emu.Get(msID); got.Status != azurefake.StatusSubscribed {
		t.Fatalf("at the emulator: %s", got.Status)
	}

	admin := client(t)
	if r := postJSON(t, admin, s.url+"/api/auth/login", `{"email":"ops@example.com","password":"end-to-end-password"}`); r.StatusCode != 200 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	var list struct {
		Items []struct {
			ID       int `json:"id"`
			Quantity int `json:"quantity"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r, err = admin.Get(s.url + "/api/subscriptions")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, r, &list)
	if list.Total != 1 || list.Items[0].Quantity != 3 {
		t.Fatalf("a clean database holds only the purchase: %+v", list)
	}
	// A customer change at the emulator reaches the webhook unsigned and is applied.
	if _, err := emu.ChangeQuantity(msID, 5); err != nil {
		t.Fatal(err)
	}
	eventually(t, s, "the seat change", func() bool {
		r, err := admin.Get(s.url + "/api/subscriptions")
		if err != nil {
			return false
		}
		decode(t, r, &list)
		return len(list.Items) == 1 && list.Items[0].Quantity == 5
	})
}

// The sandbox's /sandbox/azure makes a purchase where purchaser and
// beneficiary are in different tenants, so a newcomer can walk it: the
// purchaser lands, is told who administers it, and the beneficiary's
// invitation (kept by the sandbox, which has no mail server) makes them
// the customer admin.
func TestSandboxMicrosoftPurchaseForAnotherOrganisation(t *testing.T) {
	s := start(t, t.TempDir(), nil, "--sandbox")
	c := client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(c *http.Client, method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		if !strings.HasPrefix(u, "http") {
			u = s.url + u
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r, string(b)
	}
	r, _ := do(c, http.MethodPost, "/sandbox/azure/purchase", url.Values{"offer": {"acme-analytics-saas"}, "plan": {"silver"},
		"quantity": {"2"}, "name": {"Rita Reseller"}, "organization": {"Northwind"}, "beneficiary": {"Fabrikam"}})
	landing := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(landing, "/marketplace/azure/landing?token=") {
		t.Fatalf("purchase: %d %s", r.StatusCode, landing)
	}
	r, _ = do(c, http.MethodGet, landing, nil)
	authorize := r.Header.Get("Location")
	_, page := do(c, http.MethodGet, authorize, nil)
	forms := regexp.MustCompile(`(?s)<form method="post">(.*?)</form>`).FindAllStringSubmatch(page, -1)
	if len(forms) < 3 {
		t.Fatalf("sign-in page:\n%s", page)
	}
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(forms[1][1], -1) {
		fields.Set(m[1], html.UnescapeString(m[2]))
	}
	if !strings.HasPrefix(fields.Get("email"), "rita@northwind") {
		t.Fatalf("the first known user is not the purchaser: %v", fields)
	}
	r, _ = do(c, http.MethodPost, authorize, fields)
	r, body := do(c, http.MethodGet, r.Header.Get("Location"), nil)
	welcome := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(welcome, "/marketplace/azure/welcome?subscription=") {
		t.Fatalf("callback: %d %s\n%s", r.StatusCode, welcome, body)
	}
	if _, page = do(c, http.MethodGet, welcome, nil); !strings.Contains(page, "Administered by") || !strings.Contains(page, "it@fabrikam") {
		t.Fatalf("welcome for the purchaser:\n%s", page)
	}
	// The invitation, as the sandbox kept it.
	_, page = do(c, http.MethodGet, "/sandbox/azure", nil)
	m := regexp.MustCompile(`/invite\?token=([A-Za-z0-9_%\-]+)`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "To it@fabrikam") {
		t.Fatalf("no invitation on the sandbox page:\n%s", page)
	}
	tok, _ := url.QueryUnescape(m[1])
	it := client(t)
	it.CheckRedirect = c.CheckRedirect
	if r, body := do(it, http.MethodPost, "/invite", url.Values{"token": {tok}, "name": {"Fabrikam IT"}, "password": {"a long sandbox password 7"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept the invitation: %d %s", r.StatusCode, body)
	}
	if _, page = do(it, http.MethodGet, welcome, nil); !strings.Contains(page, "(you)") {
		t.Fatalf("welcome for the beneficiary's admin:\n%s", page)
	}
}
