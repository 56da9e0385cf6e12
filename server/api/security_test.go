package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
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
		must(t, st.W.Create(&cu).Error)
		must(t, st.W.Create(&store.User{Email: who.EmailID, Role: store.RoleCustomerAdmin, CustomerID: &cu.ID,
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
		must(t, st.W.Order("id DESC").First(&si).Error)
		if si.NextPath != "/" {
			t.Fatalf("stored next path %q", si.NextPath)
		}
	})
}
