package azurefake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

const customerTenant = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"

// consentURL is an admin consent request for the tenant.
func (e *env) consentURL(tenant string, q url.Values) string {
	return e.srv.URL + "/entra/" + tenant + "/v2.0/adminconsent?" + q.Encode()
}

func consentQuery(redirect string) url.Values {
	return url.Values{"client_id": {appID}, "redirect_uri": {redirect}, "state": {"st-42"},
		"scope": {"https://graph.microsoft.com/Directory.Read.All api://" + appID + "/.default"}}
}

func TestAdminConsentEndpoint(t *testing.T) {
	e := newEnv(t, 100)
	redirect := "https://seller.example/auth/microsoft/adminconsent"
	e.entra.RegisterRedirectURI(appID, redirect)
	q := consentQuery(redirect)

	// The page shows the app, the tenant and the scopes.
	e.checkConsentPage(q)

	decide := func(decision string) *url.URL { return e.decideConsent(q, redirect, decision) }
	// "If the admin approves the permissions for your app, the successful
	// response looks like this: …?admin_consent=True&tenant=…&scope=…&state=12345"
	ok := decide("accept").Query()
	if ok.Get("admin_consent") != "True" || ok.Get("tenant") != customerTenant || ok.Get("scope") != q.Get("scope") || ok.Get("state") != "st-42" || ok.Get("error") != "" {
		t.Fatalf("accepted: %v", ok)
	}
	if got := e.entra.Consented(customerTenant, appID); len(got) != 2 {
		t.Fatalf("consented scopes %v", got)
	}
	// "…?error=…&error_description=…&state=12345": the admin's Cancel is
	// access_denied (AADSTS65004, the user declined to consent).
	no := decide("cancel").Query()
	if no.Get("error") != "access_denied" || !strings.HasPrefix(no.Get("error_description"), "AADSTS65004") || no.Get("state") != "st-42" || no.Get("admin_consent") != "" {
		t.Fatalf("cancelled: %v", no)
	}
}

// decideConsent posts the administrator's decision on the consent page and
// returns where Entra redirects.
func (e *env) decideConsent(q url.Values, redirect, decision string) *url.URL {
	t := e.t
	t.Helper()
	form := url.Values{"decision": {decision}}
	for k, v := range q {
		form[k] = v
	}
	resp, err := noFollow.PostForm(e.srv.URL+"/entra/"+customerTenant+"/v2.0/adminconsent", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("%s: %d %s", decision, resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc
}

func (e *env) checkConsentPage(q url.Values) {
	t := e.t
	t.Helper()
	resp, err := http.Get(e.consentURL(customerTenant, q))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{appID, customerTenant, "https://graph.microsoft.com/Directory.Read.All", "api://" + appID + "/.default", "Accept", "Cancel"} {
		if resp.StatusCode != 200 || !strings.Contains(string(page), want) {
			t.Fatalf("consent page %d lacks %q: %s", resp.StatusCode, want, page)
		}
	}
}

// Entra refuses to redirect anywhere it cannot trust: the error page, not
// the redirect URI, answers an unknown client, a redirect URI that is not
// registered ("Must exactly match one of the redirect URIs that you
// registered"), and the 'common' tenant ("Don't use 'common', as personal
// accounts can't provide admin consent except in the context of a
// tenant"). A missing scope ("scope: Required") is answered on the
// registered redirect URI with an error.
func TestAdminConsentRefusals(t *testing.T) {
	e := newEnv(t, 100)
	redirect := "https://seller.example/auth/microsoft/adminconsent"
	e.entra.RegisterRedirectURI(appID, redirect)
	refused := func(name, tenant string, q url.Values, code string) {
		t.Helper()
		resp, err := noFollow.Get(e.consentURL(tenant, q))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(string(body), code) {
			t.Errorf("%s: %d %s %s", name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	unknown := consentQuery(redirect)
	unknown.Set("client_id", "11111111-2222-4333-8444-555555555555")
	refused("unknown client", customerTenant, unknown, "AADSTS700016")
	other := consentQuery("https://evil.example/steal")
	refused("unregistered redirect_uri", customerTenant, other, "AADSTS50011")
	sub := consentQuery(redirect + "/more")
	refused("a redirect_uri that only starts like a registered one", customerTenant, sub, "AADSTS50011")
	refused("the common tenant", "common", consentQuery(redirect), "AADSTS90130")

	noScope := consentQuery(redirect)
	noScope.Del("scope")
	resp, err := noFollow.Get(e.consentURL(customerTenant, noScope))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st-42" {
		t.Fatalf("no scope: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// graphToken signs a user in through the fake's code flow with the given
// scopes and returns the Graph access token.
func (e *env) graphToken(t *testing.T, scope, org string) string {
	t.Helper()
	e.entra.RegisterApp(pubTenant, "landing-app", "landing-secret")
	redirect := "https://seller.example/cb"
	q := url.Values{"client_id": {"landing-app"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {scope}, "state": {"s"}}
	form := url.Values{"name": {"Megan Bowen"}, "email": {"megan@contoso.example"}, "org": {org}, "tenant_id": {customerTenant}}
	for k, v := range q {
		form[k] = v
	}
	resp, err := noFollow.PostForm(e.srv.URL+"/entra/organizations/oauth2/v2.0/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tr, out := postForm(t, e.srv.URL+"/entra/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "client_id": {"landing-app"}, "client_secret": {"landing-secret"}})
	if tr.StatusCode != 200 {
		t.Fatalf("token %d %v", tr.StatusCode, out)
	}
	return out["access_token"].(string)
}

func getOrganization(t *testing.T, u, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Microsoft Graph GET /organization (learn.microsoft.com/graph/api/organization-list):
// "Delegated (work or school account): User.Read, Organization.Read.All, …"
// (least privileged first); "Applications granted the User.Read permission
// are able to read only the id, displayName, and verifiedDomains properties
// of the organization. All other properties return with null values."
// "There's only one organization object in the collection."
func TestGraphOrganization(t *testing.T) {
	e := newEnv(t, 100)
	u := e.srv.URL + "/entra/graph/v1.0/organization"
	tok := e.graphToken(t, "openid profile email User.Read", "Contoso Pharmaceuticals")
	code, out := getOrganization(t, u, tok)
	vals, _ := out["value"].([]any)
	if code != 200 || len(vals) != 1 {
		t.Fatalf("organization: %d %v", code, out)
	}
	org := vals[0].(map[string]any)
	domains, _ := org["verifiedDomains"].([]any)
	if org["id"] != customerTenant || org["displayName"] != "Contoso Pharmaceuticals" || len(domains) != 1 {
		t.Fatalf("organization %v", org)
	}
	if v, present := org["city"]; !present || v != nil {
		t.Fatalf("a property User.Read may not read must be null: city=%v", v)
	}
	// Only the OpenID scopes: no Graph permission to read the organisation.
	if code, out := getOrganization(t, u, e.graphToken(t, "openid profile email", "Contoso")); code != http.StatusForbidden || out["error"].(map[string]any)["code"] != "Authorization_RequestDenied" {
		t.Fatalf("without User.Read: %d %v", code, out)
	}
	if code, _ := getOrganization(t, u, ""); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", code)
	}
	// A marketplace token (another audience) is not a Graph token.
	if code, _ := getOrganization(t, u, e.token); code != http.StatusUnauthorized {
		t.Fatalf("with a marketplace token: %d", code)
	}
}
