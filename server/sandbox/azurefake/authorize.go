package azurefake

import (
	"crypto/rand"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// signInPage is the simulated Microsoft sign-in: the buyer picks or types
// an identity; html/template escapes every value.
var signInPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox: Microsoft sign-in</title>
<style>
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 4px}
.banner{background:#fff4ce;border:1px solid #f2d58a;padding:8px 10px;font-size:13px;margin:0 0 18px}
.app{font-size:13px;color:#605e5c;margin:0 0 16px;word-break:break-all}
label{display:block;font-size:13px;margin:12px 0 4px}
input[type=text],input[type=email]{width:100%;box-sizing:border-box;padding:6px 8px;border:none;border-bottom:1px solid #666;font-size:15px}
button{background:#0067b8;color:#fff;border:none;padding:8px 24px;font-size:15px;margin-top:18px;cursor:pointer}
.known button{background:#fff;color:#1b1b1b;border:1px solid #8a8886;width:100%;text-align:left;margin-top:8px;padding:8px 12px}
.known small{color:#605e5c}
h2{font-size:15px;font-weight:600;margin:28px 0 0}
</style></head>
<body><main>
<p class="banner">Sandbox: no real Microsoft account is involved. Choose the buyer to sign in as.</p>
<h1>Sign in</h1>
<p class="app">to application {{.ClientID}}</p>
<form method="post">
{{template "hidden" .}}
<label for="name">Name</label><input type="text" id="name" name="name" value="{{.Default.Name}}" required>
<label for="email">E-mail</label><input type="email" id="email" name="email" value="{{.Default.Email}}" required>
<label for="org">Organisation</label><input type="text" id="org" name="org" value="{{.Default.Organization}}">
<label for="tenant_id">Tenant id</label><input type="text" id="tenant_id" name="tenant_id" value="{{.Default.TenantID}}">
<button type="submit">Sign in</button>
</form>
{{if .Known}}<h2>Known users</h2>
<div class="known">{{range .Known}}
<form method="post">
{{template "hidden" $}}
<input type="hidden" name="name" value="{{.Name}}"><input type="hidden" name="email" value="{{.Email}}">
<input type="hidden" name="org" value="{{.Organization}}"><input type="hidden" name="tenant_id" value="{{.TenantID}}">
<input type="hidden" name="object_id" value="{{.ObjectID}}">
<button type="submit">{{.Name}} <small>{{.Email}} · {{.Organization}}</small></button>
</form>{{end}}</div>{{end}}
</main></body></html>
{{define "hidden"}}{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{end}}`))

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox: Microsoft sign-in</title></head>
<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;max-width:520px;margin:48px auto">
<h1 style="font-size:22px">Sandbox: Microsoft sign-in</h1><p>Sorry, but we're having trouble signing you in.</p>
<p><code>{{.}}</code></p></body></html>`))

// authParams are the authorize-request parameters carried through the form.
var authParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "login_hint", "prompt"}

var firstNames = []string{"Megan Bowen", "Adele Vance", "Alex Wilber", "Diego Siciliani", "Isaiah Langer", "Lynne Robbins", "Nestor Wilke", "Patti Fernandez"}

func randomInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0
	}
	return v.Int64()
}

// authorize serves the sign-in page (GET) and issues a code for the chosen
// identity (POST), redirecting 303 to redirect_uri?code=..&state=.. (the
// code flow with response_mode=query, reference §6.4 side note).
func (e *Entra) authorize(w http.ResponseWriter, r *http.Request, tenant string) {
	p, redirect, msg := readAuthorizeRequest(r)
	if msg != "" {
		e.authorizeError(w, msg)
		return
	}
	if rt := p["response_type"]; rt != "code" {
		q := redirect.Query()
		q.Set("error", "unsupported_response_type")
		q.Set("error_description", "AADSTS700054: this sandbox supports response_type=code only.")
		if s := p["state"]; s != "" {
			q.Set("state", s)
		}
		redirect.RawQuery = q.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodGet {
		e.signInForm(w, tenant, p)
		return
	}
	u, ok := signedInUser(r)
	if !ok {
		e.signInForm(w, tenant, p)
		return
	}
	code := randomString(48)
	e.mu.Lock()
	if u.Organization != "" {
		e.orgs[strings.ToLower(u.TenantID)] = u.Organization
	}
	e.codes[code] = &authCode{clientID: p["client_id"], redirectURI: p["redirect_uri"], nonce: p["nonce"], scope: p["scope"],
		challenge: p["code_challenge"], challengeMethod: p["code_challenge_method"], user: u, issued: e.now()}
	e.mu.Unlock()
	q := redirect.Query()
	q.Set("code", code)
	if s, ok := p["state"]; ok {
		q.Set("state", s)
	}
	q.Set("session_state", stableGUID("session:"+u.ObjectID))
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
}

// readAuthorizeRequest reads the authorize parameters (authParams, the
// ones given) and checks client_id and redirect_uri; msg is the error page's
// message when they do not pass.
func readAuthorizeRequest(r *http.Request) (p map[string]string, redirect *url.URL, msg string) {
	if err := r.ParseForm(); err != nil {
		return nil, nil, "AADSTS900144: the request is malformed."
	}
	p = map[string]string{}
	for _, k := range authParams {
		if v := r.Form.Get(k); v != "" {
			p[k] = v
		}
	}
	redirect, err := url.Parse(p["redirect_uri"])
	switch {
	case p["client_id"] == "":
		return nil, nil, "AADSTS900144: The request body must contain the following parameter: 'client_id'."
	case err != nil || !redirect.IsAbs() || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Fragment != "":
		return nil, nil, "AADSTS50011: The redirect URI specified in the request is not a valid absolute http(s) URL."
	}
	return p, redirect, ""
}

// signedInUser is the identity the sign-in form posted; false when it
// lacks a name or an e-mail. Tenant and object ids that are not GUIDs
// become stable ones.
func signedInUser(r *http.Request) (User, bool) {
	u := User{Name: strings.TrimSpace(r.PostForm.Get("name")), Email: strings.TrimSpace(r.PostForm.Get("email")),
		Organization: strings.TrimSpace(r.PostForm.Get("org")), TenantID: strings.ToLower(strings.TrimSpace(r.PostForm.Get("tenant_id"))),
		ObjectID: strings.ToLower(strings.TrimSpace(r.PostForm.Get("object_id")))}
	if u.Name == "" || u.Email == "" {
		return u, false
	}
	if !isGUID(u.TenantID) {
		// A typed organisation name becomes a stable tenant id.
		u.TenantID = stableGUID("tenant:" + strings.ToLower(u.Organization+u.TenantID))
	}
	if !isGUID(u.ObjectID) {
		u.ObjectID = stableGUID("user:" + u.TenantID + ":" + strings.ToLower(u.Email))
	}
	return u, true
}

func (e *Entra) signInForm(w http.ResponseWriter, tenant string, p map[string]string) {
	n := 100 + randomInt(900)
	name := firstNames[randomInt(int64(len(firstNames)))]
	first := strings.ToLower(strings.Fields(name)[0])
	org := "Contoso " + itoa(n)
	def := User{Name: name, Email: first + "@contoso-" + itoa(n) + ".example", Organization: org, TenantID: newGUID()}
	if isGUID(tenant) {
		def.TenantID = strings.ToLower(tenant) // a tenant-specific authority signs into that tenant
	}
	if h := p["login_hint"]; h != "" {
		def.Email = h
	}
	e.mu.Lock()
	known := append([]User(nil), e.users...)
	e.mu.Unlock()
	for i := range known {
		if known[i].ObjectID == "" {
			known[i].ObjectID = stableGUID("user:" + known[i].TenantID + ":" + strings.ToLower(known[i].Email))
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = signInPage.Execute(w, map[string]any{"ClientID": p["client_id"], "Hidden": p, "Default": def, "Known": known})
}

func (e *Entra) authorizeError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
