package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// signInWithEntra follows a redirect to the simulated Entra, signs in as
// who and returns our callback's answer.
func (e *azureEnv) signInWithEntra(b *browser, start string, who azurefake.Party, checks ...func(authURL string)) resp {
	e.t.Helper()
	r := b.get(start)
	if r.code != http.StatusFound {
		e.t.Fatalf("%s: %d %s", start, r.code, r.body)
	}
	authURL := r.hdr.Get("Location")
	for _, check := range checks {
		check(authURL)
	}
	c := e.esrv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := url.Values{"name": {"Someone"}, "email": {who.EmailID}, "org": {"Contoso"}, "tenant_id": {who.TenantID}, "object_id": {who.ObjectID}}
	u, _ := url.Parse(authURL)
	for k, v := range u.Query() {
		form[k] = v
	}
	res, err := c.PostForm(authURL, form)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	cb, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || cb.Query().Get("code") == "" {
		e.t.Fatalf("entra sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return b.get(cb.RequestURI())
}

func (b *browser) me(t *testing.T) (string, *uint) {
	t.Helper()
	var out struct {
		User struct {
			Email      string `json:"email"`
			CustomerID *uint  `json:"customer_id"`
		} `json:"user"`
	}
	r := b.get("/api/auth/me")
	if r.code != 200 {
		return "", nil
	}
	r.json(t, &out)
	return out.User.Email, out.User.CustomerID
}

func TestCustomerAdminInvitationsAndMicrosoftSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		_, token, buyer := e.buy("seats", 10)
		owner := &browser{e: e.env}
		if r := e.land(owner, token, buyer); r.code != http.StatusSeeOther {
			t.Fatalf("landing: %d %s", r.code, r.body)
		}
		ownerEmail, customer := owner.me(t)
		if ownerEmail != buyer.EmailID || customer == nil {
			t.Fatalf("the buyer is not signed in as customer admin: %q %v", ownerEmail, customer)
		}
		invite := func(email string) (uint, string) {
			t.Helper()
			var out struct {
				Invite struct{ ID uint } `json:"invite"`
				URL    string            `json:"url"`
			}
			r := owner.do(http.MethodPost, "/api/customer-admins/invites", fmt.Sprintf(`{"email":%q}`, email), nil)
			r.json(t, &out)
			if r.code != 201 || !strings.HasPrefix(out.URL, "http://portal.test/invite?token=") {
				t.Fatalf("invite: %d %s", r.code, r.body)
			}
			u, _ := url.Parse(out.URL)
			return out.Invite.ID, u.Query().Get("token")
		}
		owner.do(http.MethodPost, "/api/customer-admins/invites", fmt.Sprintf(`{"email":%q}`, buyer.EmailID), nil).errCode(t, 409, "conflict")
		owner.do(http.MethodPost, "/api/customer-admins/invites", `{"email":"nobody"}`, nil).errCode(t, 400, "invalid_input")

		// A colleague in the same Entra tenant accepts with Microsoft.
		_, tok := invite("colleague@contoso.example")
		colleague := &browser{e: e.env}
		if r := colleague.get("/invite?token=" + url.QueryEscape(tok)); r.code != 200 || !strings.Contains(string(r.body), "Sign in with Microsoft") {
			t.Fatalf("invite page: %d %s", r.code, r.body)
		}
		who := azurefake.Party{EmailID: "colleague@contoso.example", ObjectID: azuremp.NewGUID(), TenantID: buyer.TenantID}
		r := e.signInWithEntra(colleague, "/auth/microsoft?invite="+url.QueryEscape(tok), who)
		if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/" {
			t.Fatalf("accept with Microsoft: %d %s %s", r.code, r.hdr.Get("Location"), r.body)
		}
		if email, c := colleague.me(t); email != "colleague@contoso.example" || c == nil || *c != *customer {
			t.Fatalf("colleague signed in as %q of %v", email, c)
		}
		// The link worked once.
		if r := (&browser{e: e.env}).get("/invite?token=" + url.QueryEscape(tok)); r.code != http.StatusGone {
			t.Fatalf("used link: %d", r.code)
		}

		// Someone from another tenant cannot take an invitation with Microsoft;
		// the invitee can still choose a password.
		_, tok2 := invite("contractor@contoso.example")
		outsider := &browser{e: e.env}
		stranger := azurefake.Party{EmailID: "contractor@contoso.example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
		if r := e.signInWithEntra(outsider, "/auth/microsoft?invite="+url.QueryEscape(tok2), stranger); r.code != http.StatusForbidden {
			t.Fatalf("other tenant accepted: %d %s", r.code, r.body)
		}
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		body := url.Values{"token": {tok2}, "name": {"Contractor"}, "password": {"short"}}.Encode()
		if r := outsider.do(http.MethodPost, "/invite", body, form); r.code != 400 {
			t.Fatalf("short password: %d", r.code)
		}
		body = url.Values{"token": {tok2}, "name": {"Contractor"}, "password": {testPassword}}.Encode()
		if r := outsider.do(http.MethodPost, "/invite", body, form); r.code != http.StatusSeeOther {
			t.Fatalf("accept with password: %d %s", r.code, r.body)
		}
		if email, c := e.login("contractor@contoso.example").me(t); email != "contractor@contoso.example" || c == nil || *c != *customer {
			t.Fatalf("password sign-in after invitation: %q %v", email, c)
		}

		// Revoked and expired links stop working.
		id3, tok3 := invite("late@contoso.example")
		if r := owner.do(http.MethodPost, fmt.Sprintf("/api/customer-admins/invites/%d/revoke", id3), "", nil); r.code != 200 {
			t.Fatalf("revoke: %d %s", r.code, r.body)
		}
		if r := (&browser{e: e.env}).get("/invite?token=" + url.QueryEscape(tok3)); r.code != http.StatusGone {
			t.Fatalf("revoked link: %d", r.code)
		}
		id4, tok4 := invite("slow@contoso.example")
		must(t, st.TestingDB(t).Model(&store.Invitation{}).Where("id = ?", id4).Update("expires_at", time.Now().Add(-time.Minute)).Error)
		body = url.Values{"token": {tok4}, "name": {"Slow"}, "password": {testPassword}}.Encode()
		if r := (&browser{e: e.env}).do(http.MethodPost, "/invite", body, form); r.code != http.StatusGone {
			t.Fatalf("expired link: %d", r.code)
		}

		// The list shows admins and invitations.
		var list struct {
			Admins  []struct{ Email string }
			Invites []struct {
				Email     string
				UsedAt    *time.Time `json:"used_at"`
				RevokedAt *time.Time `json:"revoked_at"`
			}
		}
		owner.get("/api/customer-admins").json(t, &list)
		if len(list.Admins) != 3 || len(list.Invites) != 4 {
			t.Fatalf("admins %d, invites %d", len(list.Admins), len(list.Invites))
		}

		// Returning with Microsoft: the buyer, to where they were going.
		back := &browser{e: e.env}
		if r := e.signInWithEntra(back, "/auth/microsoft?next=/subscriptions", buyer); r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/subscriptions" {
			t.Fatalf("returning sign-in: %d %s", r.code, r.hdr.Get("Location"))
		}
		if email, _ := back.me(t); email != buyer.EmailID {
			t.Fatalf("returning sign-in as %q", email)
		}
		// An open redirect is not possible.
		evil := &browser{e: e.env}
		if r := e.signInWithEntra(evil, "/auth/microsoft?next=//evil.example/", buyer); r.hdr.Get("Location") != "/" {
			t.Fatalf("next went off-site: %s", r.hdr.Get("Location"))
		}
		// A Microsoft user who is nobody's customer admin is sent back to sign in.
		nobody := &browser{e: e.env}
		r = e.signInWithEntra(nobody, "/auth/microsoft", azurefake.Party{EmailID: "x@elsewhere.example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()})
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/login?error=") {
			t.Fatalf("unknown Microsoft user: %d %s", r.code, r.hdr.Get("Location"))
		}
		if email, _ := nobody.me(t); email != "" {
			t.Fatal("an unknown Microsoft user was signed in")
		}
		var opts struct{ Microsoft bool }
		nobody.get("/api/auth/options").json(t, &opts)
		if !opts.Microsoft {
			t.Fatal("auth options do not offer Microsoft")
		}

		// Seller staff invite on behalf of a customer, naming it.
		e.user("seller@seller.com", store.RoleAdmin, nil)
		seller := e.login("seller@seller.com")
		seller.do(http.MethodPost, "/api/customer-admins/invites", `{"email":"new@contoso.example"}`, nil).errCode(t, 400, "invalid_input")
		if r := seller.do(http.MethodPost, "/api/customer-admins/invites", fmt.Sprintf(`{"email":"new@contoso.example","customer_id":%d}`, *customer), nil); r.code != 201 {
			t.Fatalf("seller invite: %d %s", r.code, r.body)
		}
	})
}

func TestAzureRawRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, buyer := e.buy("seats", 4)
		e.land(&browser{e: e.env}, token, buyer)
		sub := e.ours(msID)
		e.user("viewer@seller.com", store.RoleViewer, nil)
		r := e.login("viewer@seller.com").get(fmt.Sprintf("/api/subscriptions/%d/raw", sub.ID))
		if r.code != 200 || !strings.Contains(string(r.body), msID) || !strings.Contains(string(r.body), "Get subscription") ||
			!strings.Contains(string(r.body), `"saasSubscriptionStatus"`) {
			t.Fatalf("raw: %d %s", r.code, r.body)
		}
	})
}
