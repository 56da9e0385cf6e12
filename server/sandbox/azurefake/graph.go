package azurefake

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// GraphResource is Microsoft Graph's application id (the aud of the
// delegated access tokens the authorization-code grant issues).
const GraphResource = "00000003-0000-0000-c000-000000000000"

// graphScopes is the scp of the Graph access token a code redeems: the
// OpenID scopes and the Graph delegated permissions the authorize request
// asked for ("User.Read" or "https://graph.microsoft.com/User.Read"), as
// Entra lists them (short names, space-separated).
func graphScopes(requested string) string {
	var out []string
	for _, s := range strings.Fields(requested) {
		short := strings.TrimPrefix(s, "https://graph.microsoft.com/")
		if strings.Contains(short, "/") || strings.EqualFold(short, "offline_access") || strings.HasSuffix(short, ".default") {
			continue // another resource's scope, or not a permission
		}
		if !slices.Contains(out, short) {
			out = append(out, short)
		}
	}
	if len(out) == 0 {
		return "openid profile email"
	}
	return strings.Join(out, " ")
}

// graph serves the simulated Microsoft Graph under {base}/graph/: GET
// v1.0/organization, the signed-in user's organisation, as
// https://learn.microsoft.com/graph/api/organization-list documents it:
// "Delegated (work or school account): User.Read, Organization.Read.All,
// Directory.Read.All, …" (least privileged first), and "Applications
// granted the User.Read permission are able to read only the id,
// displayName, and verifiedDomains properties of the organization. All
// other properties return with null values." The answer is a collection
// with exactly one organization object ("There's only one organization
// object in the collection").
func (e *Entra) graph(w http.ResponseWriter, r *http.Request, path string) {
	if strings.HasPrefix(path, "v1.0/applications") { // the publisher's app registration (graphapps.go)
		e.graphApplication(w, r, path)
		return
	}
	if path != "v1.0/organization" || r.Method != http.MethodGet {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource not found for the segment '"+path+"'.")
		return
	}
	c, ok := e.graphToken(r)
	if !ok {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	scopes := strings.Fields(claimString(c, "scp"))
	if !slices.ContainsFunc(scopes, func(s string) bool {
		return slices.Contains([]string{"User.Read", "Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}, s)
	}) {
		graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	tenant := strings.ToLower(claimString(c, "tid"))
	e.mu.Lock()
	name := e.orgs[tenant]
	e.mu.Unlock()
	domain := "tenant-" + tenant[:min(8, len(tenant))] + ".onmicrosoft.com"
	if name != "" {
		domain = strings.ToLower(strings.Join(strings.FieldsFunc(name, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}), "")) + ".onmicrosoft.com"
	}
	org := map[string]any{
		"id": tenant, "displayName": name,
		"verifiedDomains": []map[string]any{{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true,
			"isInitial": true, "name": domain, "type": "Managed"}},
	}
	// What User.Read may not read comes back null.
	for _, p := range []string{"city", "country", "countryLetterCode", "createdDateTime", "postalCode", "preferredLanguage",
		"state", "street", "tenantType", "technicalNotificationMails", "businessPhones", "assignedPlans", "provisionedPlans"} {
		org[p] = nil
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
		"value":          []any{org},
	})
}

// graphToken verifies a Graph bearer token this fake issued: signature,
// lifetime, aud Microsoft Graph, an issuer of this fake.
func (e *Entra) graphToken(r *http.Request) (map[string]any, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	e.mu.Lock()
	keys := append([]*signingKey(nil), e.keys...)
	e.mu.Unlock()
	c, err := verifyJWT(strings.TrimSpace(tok), keys)
	if err != nil {
		return nil, false
	}
	exp, ok := claimTime(c, "exp")
	if !ok || e.now().After(exp.Add(5*time.Minute)) {
		return nil, false
	}
	aud, tenant := claimString(c, "aud"), claimString(c, "tid")
	if (aud != GraphResource && aud != "https://graph.microsoft.com") || tenant == "" || claimString(c, "iss") != e.Issuer(tenant) {
		return nil, false
	}
	return c, true
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSONStatus(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": newGUID()}}})
}
