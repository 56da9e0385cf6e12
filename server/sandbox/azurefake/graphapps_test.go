package azurefake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// An app-only Graph token (client credentials, scope
// https://graph.microsoft.com/.default) carries the granted application
// permissions in roles; GET /applications(appId='…') needs one of the
// permissions Microsoft's "Get application" page lists
// (Application.Read.All least privileged), answers 403
// Authorization_RequestDenied without, and honours $select.
func TestGraphApplication(t *testing.T) {
	srv := httptest.NewServer(nil)
	defer srv.Close()
	e := NewEntra(srv.URL, nil)
	srv.Config.Handler = e
	e.RegisterApp("t1", "app1", "sec-ret")
	end := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	app := Application{DisplayName: "Marketgate", SignInAudience: "AzureADMultipleOrgs", RedirectURIs: []string{"https://x.example/cb"},
		Passwords: []PasswordCredential{{KeyID: "k1", Hint: "sec", End: end}}}
	e.SetApplication("t1", "app1", app)
	get := func() (int, map[string]any) {
		resp, err := http.PostForm(srv.URL+"/t1/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app1"},
			"client_secret": {"sec-ret"}, "scope": {"https://graph.microsoft.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		var tok map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graph/v1.0/applications(appId='app1')?$select=signInAudience,web,passwordCredentials", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, out := get()
	if status != http.StatusForbidden || !strings.Contains(out["error"].(map[string]any)["code"].(string), "Authorization_RequestDenied") {
		t.Fatalf("without Application.Read.All: %d %v", status, out)
	}
	app.GraphRoles = []string{"Application.Read.All"}
	e.SetApplication("t1", "app1", app)
	status, out = get()
	if status != http.StatusOK || out["signInAudience"] != "AzureADMultipleOrgs" || out["displayName"] != nil {
		t.Fatalf("with it: %d %v", status, out)
	}
	pw := out["passwordCredentials"].([]any)[0].(map[string]any)
	if pw["hint"] != "sec" || pw["endDateTime"] != "2027-06-01T00:00:00Z" || pw["secretText"] != nil {
		t.Fatalf("password %v", pw)
	}
}
