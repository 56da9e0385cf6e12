package azurefake

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Application is an app registration as Microsoft Graph's application
// resource shows it (learn.microsoft.com/graph/api/resources/application),
// with the Graph application permissions an admin granted it in its
// tenant.
type Application struct {
	DisplayName string
	// SignInAudience: AzureADMyOrg (single tenant), AzureADMultipleOrgs,
	// AzureADandPersonalMicrosoftAccount or PersonalMicrosoftAccount.
	SignInAudience string
	RedirectURIs   []string // web.redirectUris
	Passwords      []PasswordCredential
	// GraphRoles are the Microsoft Graph application permissions granted
	// with admin consent (the roles claim of its app-only Graph tokens).
	GraphRoles []string
}

// PasswordCredential is one client secret of an app registration
// (learn.microsoft.com/graph/api/resources/passwordcredential): "hint:
// Contains the first three characters of the password"; "endDateTime: The
// date and time at which the password expires … always in UTC time";
// secretText is never returned after creation.
type PasswordCredential struct {
	KeyID, DisplayName, Hint string
	Start, End               time.Time
}

// SetApplication registers how Graph shows the app registration clientID
// of tenant (RegisterApp registers its secret for tokens).
func (e *Entra) SetApplication(tenant, clientID string, app Application) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.applications == nil {
		e.applications = map[string]*Application{}
	}
	a := app
	e.applications[strings.ToLower(tenant)+"|"+clientID] = &a
}

// graphDefaultScope tells whether a client-credentials scope asks for an
// app-only Microsoft Graph token ("https://graph.microsoft.com/.default").
func graphDefaultScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if s == "https://graph.microsoft.com/.default" || s == GraphResource+"/.default" {
			return true
		}
	}
	return false
}

// graphAppToken is the app-only Graph access token of the client-credentials
// grant: aud Microsoft Graph, the granted application permissions in
// roles, no scp (there is no signed-in user).
func (e *Entra) graphAppToken(tenant, clientID string) string {
	e.mu.Lock()
	var roles []string
	if a := e.applications[strings.ToLower(tenant)+"|"+clientID]; a != nil {
		roles = append(roles, a.GraphRoles...)
	}
	e.mu.Unlock()
	c := e.times()
	c["iss"], c["aud"], c["tid"], c["ver"] = e.Issuer(tenant), "https://graph.microsoft.com", tenant, "2.0"
	c["appid"], c["azp"], c["idtyp"] = clientID, clientID, "app"
	c["oid"], c["sub"] = stableGUID("sp:"+tenant+":"+clientID), stableGUID("sp:"+tenant+":"+clientID)
	c["roles"] = roles
	return e.Sign(c)
}

// applicationReaders are the permissions that may read any app
// registration of the tenant: "Get application … Application permissions:
// Application.Read.All (least privileged), Application.ReadWrite.All,
// Directory.Read.All" (learn.microsoft.com/graph/api/application-get).
var applicationReaders = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// graphApplication serves GET /v1.0/applications(appId='{appId}') (the
// alternate key) and GET /v1.0/applications/{id}, with $select; without
// one of applicationReaders the answer is 403 Authorization_RequestDenied
// "Insufficient privileges to complete the operation.", an unknown app 404
// Request_ResourceNotFound.
func (e *Entra) graphApplication(w http.ResponseWriter, r *http.Request, path string) {
	if r.Method != http.MethodGet {
		graphError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Method not allowed.")
		return
	}
	c, ok := e.graphToken(r)
	if !ok {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	granted := append(claimStrings(c, "roles"), strings.Fields(claimString(c, "scp"))...)
	if !slices.ContainsFunc(granted, func(p string) bool { return slices.Contains(applicationReaders, p) }) {
		graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	tenant := strings.ToLower(claimString(c, "tid"))
	appID, objectID := applicationKey(strings.TrimPrefix(path, "v1.0/applications"))
	e.mu.Lock()
	var found *Application
	var foundID string
	for k, a := range e.applications {
		t, client, _ := strings.Cut(k, "|")
		if t == tenant && (client == appID || objectID != "" && stableGUID("app:"+k) == objectID) {
			cp := *a
			found, foundID, appID = &cp, stableGUID("app:"+k), client
		}
	}
	e.mu.Unlock()
	if found == nil {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+appID+objectID+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	writeJSONStatus(w, http.StatusOK, selectProperties(applicationJSON(foundID, appID, found), r.URL.Query().Get("$select")))
}

// applicationKey reads "(appId='X')" or "/ID" after /applications.
func applicationKey(rest string) (appID, objectID string) {
	if v, ok := strings.CutPrefix(rest, "(appId="); ok {
		return strings.Trim(strings.TrimSuffix(v, ")"), "'{}"), ""
	}
	return "", strings.TrimPrefix(rest, "/")
}

func applicationJSON(id, appID string, a *Application) map[string]any {
	pw := make([]map[string]any, 0, len(a.Passwords))
	for _, p := range a.Passwords {
		pw = append(pw, map[string]any{"customKeyIdentifier": nil, "displayName": p.DisplayName, "hint": p.Hint,
			"keyId": p.KeyID, "secretText": nil, "startDateTime": p.Start.UTC().Format(time.RFC3339), "endDateTime": p.End.UTC().Format(time.RFC3339)})
	}
	redirects := append([]string{}, a.RedirectURIs...)
	return map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
		"id":             id, "appId": appID, "displayName": a.DisplayName, "signInAudience": a.SignInAudience,
		"web": map[string]any{"homePageUrl": nil, "logoutUrl": nil, "redirectUris": redirects,
			"implicitGrantSettings": map[string]any{"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}},
		"passwordCredentials": pw, "keyCredentials": []any{},
	}
}

// selectProperties keeps the $select-ed properties (and the OData context),
// as Graph answers a $select.
func selectProperties(v map[string]any, sel string) map[string]any {
	if strings.TrimSpace(sel) == "" {
		return v
	}
	out := map[string]any{"@odata.context": v["@odata.context"]}
	for _, p := range strings.Split(sel, ",") {
		if x, ok := v[strings.TrimSpace(p)]; ok {
			out[strings.TrimSpace(p)] = x
		}
	}
	return out
}

// claimStrings reads a claim holding a list of strings.
func claimStrings(c map[string]any, name string) []string {
	list, _ := c[name].([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
