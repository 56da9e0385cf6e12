package azurefake

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The admin consent endpoint, as
// https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
// documents it:
//
//	GET https://login.microsoftonline.com/{tenant}/v2.0/adminconsent
//	    ?client_id=…&scope=…&redirect_uri=…&state=…
//
// "tenant: Required. The directory tenant that you want to request
// permission from. Can be provided in GUID or friendly name format OR
// generically referenced with organizations … Don't use 'common', as
// personal accounts can't provide admin consent except in the context of a
// tenant." "redirect_uri: Required. … Must exactly match one of the
// redirect URIs that you registered in the app registration portal."
// "scope: Required."
//
// "If the admin approves the permissions for your app, the successful
// response looks like this:
// …/permissions?admin_consent=True&tenant=…&scope=…&state=12345"
// and on an error
// "…/permissions?error=consent_required&error_description=…&state=12345"
// (error: "An error code string that can be used to classify types of
// errors"). The admin's Cancel is Entra's access_denied with AADSTS65004
// ("User declined to consent to access the app").

// RegisterRedirectURI registers a redirect URI of a client (app
// registration). Once a client has one, the admin consent endpoint takes
// only its registered URIs, exactly; a client with none takes any
// absolute http(s) URL (the sandbox's leniency).
func (e *Entra) RegisterRedirectURI(clientID, uri string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.redirects[clientID] = append(e.redirects[clientID], uri)
}

// Consented lists the scopes an administrator of the tenant granted the
// client through the admin consent endpoint.
func (e *Entra) Consented(tenant, clientID string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.consents[strings.ToLower(tenant)+"|"+clientID]...)
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox: Permissions requested</title>
<style>
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:480px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 8px}
.banner{background:#fff4ce;border:1px solid #f2d58a;padding:8px 10px;font-size:13px;margin:0 0 18px}
dl{font-size:13px}dt{color:#605e5c;margin-top:8px}dd{margin:0;word-break:break-all}
ul{font-size:14px;padding-left:20px}li{margin:4px 0;word-break:break-all}
label{display:block;font-size:13px;margin:12px 0 4px}input[type=text]{width:100%;box-sizing:border-box;padding:6px 8px}
.actions{margin-top:22px;display:flex;gap:8px;justify-content:flex-end}
button{border:none;padding:8px 24px;font-size:15px;cursor:pointer}
button.accept{background:#0067b8;color:#fff}button.cancel{background:#e1dfdd;color:#1b1b1b}
</style></head>
<body><main>
<p class="banner">Sandbox: no real Microsoft tenant is changed. Accept or cancel as the tenant's administrator would.</p>
<h1>Permissions requested</h1>
<p>Accept for your organization</p>
<dl><dt>App</dt><dd id="consent-app">{{.ClientID}}</dd><dt>Tenant</dt><dd id="consent-tenant">{{if .AnyTenant}}your organization{{else}}{{.Tenant}}{{end}}</dd></dl>
<p>This app would like to:</p>
<ul id="consent-scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<p style="font-size:13px;color:#605e5c">If you accept, this app gets access to the specified resources for all users in your organization. No one else will be prompted to review these permissions.</p>
<form method="post">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if .AnyTenant}}<label for="tenant_id">Your tenant id</label><input type="text" id="tenant_id" name="tenant_id" required>{{end}}
<div class="actions"><button class="cancel" type="submit" name="decision" value="cancel">Cancel</button>
<button class="accept" type="submit" name="decision" value="accept">Accept</button></div>
</form>
</main></body></html>`))

// adminConsent serves the admin consent endpoint: the consent page (GET)
// and the administrator's decision (POST), redirecting 302 as Entra does.
func (e *Entra) adminConsent(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		e.authorizeError(w, "AADSTS900144: the request is malformed.")
		return
	}
	p := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "scope", "state"} {
		if v := r.Form.Get(k); v != "" {
			p[k] = v
		}
	}
	redirect, msg := e.consentTarget(tenant, p)
	if msg != "" {
		e.authorizeError(w, msg)
		return
	}
	answer := func(q url.Values) {
		if s, ok := p["state"]; ok {
			q.Set("state", s)
		}
		u := *redirect
		u.RawQuery = mergeQuery(redirect.Query(), q).Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	scopes := strings.Fields(p["scope"])
	if len(scopes) == 0 {
		answer(url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS900144: The request body must contain the following parameter: 'scope'."}})
		return
	}
	anyTenant := strings.EqualFold(tenant, "organizations")
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		_ = consentPage.Execute(w, map[string]any{"ClientID": p["client_id"], "Tenant": tenant, "AnyTenant": anyTenant, "Scopes": scopes, "Hidden": p})
		return
	}
	if r.PostForm.Get("decision") != "accept" {
		answer(url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}})
		return
	}
	granted := strings.ToLower(tenant)
	if anyTenant {
		if granted = strings.ToLower(strings.TrimSpace(r.PostForm.Get("tenant_id"))); !isGUID(granted) {
			granted = stableGUID("tenant:" + granted)
		}
	}
	e.mu.Lock()
	key := granted + "|" + p["client_id"]
	for _, s := range scopes {
		if !slices.Contains(e.consents[key], s) {
			e.consents[key] = append(e.consents[key], s)
		}
	}
	e.mu.Unlock()
	answer(url.Values{"admin_consent": {"True"}, "tenant": {granted}, "scope": {strings.Join(scopes, " ")}})
}

// consentTarget checks the request's tenant, client and redirect URI as
// Entra does before it will redirect anywhere: a refused one gets Entra's
// error page (msg), never a redirect.
func (e *Entra) consentTarget(tenant string, p map[string]string) (*url.URL, string) {
	switch {
	case strings.EqualFold(tenant, "common") || strings.EqualFold(tenant, "consumers"):
		return nil, "AADSTS90130: Admin consent needs a tenant: use the tenant id or 'organizations', not '" + tenant + "'; personal accounts can't provide admin consent except in the context of a tenant."
	case p["client_id"] == "":
		return nil, "AADSTS900144: The request body must contain the following parameter: 'client_id'."
	}
	e.mu.Lock()
	known := false
	for k := range e.apps {
		if strings.HasSuffix(k, "|"+p["client_id"]) {
			known = true
		}
	}
	registered := append([]string(nil), e.redirects[p["client_id"]]...)
	e.mu.Unlock()
	if !known {
		return nil, "AADSTS700016: Application with identifier '" + p["client_id"] + "' was not found in the directory '" + tenant + "'."
	}
	u, err := url.Parse(p["redirect_uri"])
	switch {
	case p["redirect_uri"] == "":
		return nil, "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'."
	case err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "":
		return nil, "AADSTS50011: The redirect URI specified in the request is not a valid absolute http(s) URL."
	case len(registered) > 0 && !slices.Contains(registered, p["redirect_uri"]):
		return nil, "AADSTS50011: The redirect URI '" + p["redirect_uri"] + "' specified in the request does not match the redirect URIs configured for the application '" + p["client_id"] + "'."
	}
	return u, ""
}

func mergeQuery(base, add url.Values) url.Values {
	for k, v := range add {
		base[k] = v
	}
	return base
}
