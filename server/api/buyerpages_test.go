package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/smtptest"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Issue 17, items 5-7: the buyer pages in the buyer's language, branded by
// the seller, leading into the customer portal; invitations by e-mail.

// ---- the catalogues ----

func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("locales", "active."+lang+".toml"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := toml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	out := map[string]string{}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s: %s is not a plain message", lang, k)
		}
		out[k] = s
	}
	return out
}

// usedMessageIDs finds the message ids the server's Go code and templates
// use: {{.L.T "id"}}, l.T("id"), problem(c, status, "key", ...) (key_title
// and key_message), loginFailed(c, "id"), the link texts, the page titles
// and the form problems.
func usedMessageIDs(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	patterns := []struct {
		re       *regexp.Regexp
		suffixes []string
	}{
		{regexp.MustCompile(`\.T "([a-z0-9_]+)"`), []string{""}},
		{regexp.MustCompile(`\.T\("([a-z0-9_]+)"[,)]`), []string{""}},
		{regexp.MustCompile(`showProblem\(c, [^,]+, "([a-z0-9_]+)"`), []string{"_title", "_message"}},
		{regexp.MustCompile(`loginFailed\(c, "([a-z0-9_]+)"`), []string{""}},
		{regexp.MustCompile(`"(link_[a-z0-9_]+)"`), []string{""}},
		{regexp.MustCompile(`= page\("([a-z0-9_]+)"`), []string{""}},
		{regexp.MustCompile(`return "(form_[a-z0-9_]+)"`), []string{""}},
	}
	used := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var code strings.Builder // without comments
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "//") {
				code.WriteString(line + "\n")
			}
		}
		for _, p := range patterns {
			for _, m := range p.re.FindAllStringSubmatch(code.String(), -1) {
				for _, s := range p.suffixes {
					used[m[1]+s] = f
				}
			}
		}
	}
	// Ids made at run time: states, term units, roles.
	for _, s := range []string{"pending", "active", "suspended", "unsubscribe_pending", "ended", "failed"} {
		used["state_"+s] = "welcome.go"
	}
	for _, u := range []string{"P1M", "P1Y", "P2Y", "P3Y", "P4Y", "P5Y", "PAY"} {
		used["term_"+u] = "welcome.go"
	}
	for _, r := range []string{"admin", "operator", "viewer"} {
		used["role_"+r] = "invitations.go"
	}
	return used
}

func TestPageCatalogues(t *testing.T) {
	en, ja := catalogue(t, "en"), catalogue(t, "ja")
	for id := range en {
		if _, ok := ja[id]; !ok {
			t.Errorf("%s is in English, not in Japanese", id)
		}
	}
	for id := range ja {
		if _, ok := en[id]; !ok {
			t.Errorf("%s is in Japanese, not in English", id)
		}
	}
	used := usedMessageIDs(t)
	if len(used) < 100 {
		t.Fatalf("only %d message ids found in the code: the scan is broken", len(used))
	}
	for id, file := range used {
		if _, ok := en[id]; !ok {
			t.Errorf("%s (%s) is not in the catalogues", id, file)
		}
	}
	// The same placeholders in both languages, and Japanese that is Japanese.
	ph := regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)
	kana := regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)
	for id, e := range en {
		a, b := ph.FindAllString(e, -1), ph.FindAllString(ja[id], -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
			t.Errorf("%s: placeholders %v in English, %v in Japanese", id, a, b)
		}
		if ja[id] == e && kana.FindString(e) == "" && len(e) > 12 && !strings.Contains(id, "your_software") && !strings.HasPrefix(id, "admin_of") && id != "term_dates" {
			t.Errorf("%s is not translated: %q", id, e)
		}
	}
}

// ---- welcome and onboarding pages ----

// cookieOf returns the session cookie an answer set ("" if none).
func cookieOf(r resp) string {
	for _, c := range (&http.Response{Header: r.hdr}).Cookies() {
		if c.Name == api.SessionCookie {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

func brandOffer(t *testing.T, admin *browser, offerID uint) {
	t.Helper()
	body := `{"branding":{"product_name":"Acme Cloud","logo_url":"https://cdn.acme.example/logo.png","accent_color":"#AA3300",` +
		`"support_email":"help@acme.example","support_url":"https://acme.example/support",` +
		`"getting_started":[{"title":"Quick start guide","url":"https://docs.acme.example/start"}]}}`
	if r := admin.do(http.MethodPatch, fmt.Sprintf("/api/offers/%d", offerID), body, nil); r.code != 200 {
		t.Fatalf("branding: %d %s", r.code, r.body)
	}
}

func TestAWSWelcomeInTheBuyersLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		// (The AWS env's product codes predate the offer API's rules: branded in the store.)
		if err := st.UpdateOfferBranding(t.Context(), 1, store.OfferBranding{BrandName: "Acme Cloud", BrandLogo: "https://cdn.acme.example/logo.png",
			BrandAccent: "#aa3300", SupportEmail: "help@acme.example", SupportURL: "https://acme.example/support",
			GettingStarted: `[{"title":"Quick start guide","url":"https://docs.acme.example/start"}]`}, timeNow()); err != nil {
			t.Fatal(err)
		}

		loc := e.register(url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(caBuyer)}}).hdr.Get("Location")
		ja := map[string]string{"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"}
		buyer := &browser{e: e.env}
		page := buyer.do(http.MethodGet, loc, "", ja)
		body := string(page.body)
		if page.code != 200 || !strings.Contains(body, `<html lang="ja">`) || !strings.Contains(body, "Acme Cloud のアカウントをセットアップ") ||
			!strings.Contains(body, "勤務先のメールアドレス") || page.hdr.Get("Content-Language") != "ja" {
			t.Fatalf("onboarding in Japanese: %d %s", page.code, body)
		}
		if !strings.Contains(body, `href="/lang?set=en&amp;next=`+url.QueryEscape(loc)) {
			t.Fatalf("no switch to English back to this page: %s", body)
		}
		// The switch: a cookie, then back to the page, in English despite the browser.
		sw := buyer.get("/lang?set=en&next=" + url.QueryEscape(loc))
		if sw.code != http.StatusSeeOther || sw.hdr.Get("Location") != loc || !strings.Contains(sw.hdr.Get("Set-Cookie"), "lang=en") {
			t.Fatalf("switch: %d %v", sw.code, sw.hdr)
		}
		if r := buyer.get("/lang?set=ja&next=https://evil.example/"); r.hdr.Get("Location") != "/" {
			t.Fatalf("the switch redirects off the site: %s", r.hdr.Get("Location"))
		}
		en := buyer.do(http.MethodGet, loc, "", map[string]string{"Accept-Language": "ja", "Cookie": "lang=en"})
		if !strings.Contains(string(en.body), `<html lang="en">`) || !strings.Contains(string(en.body), "Set up your Acme Cloud account") {
			t.Fatalf("onboarding after the switch: %s", en.body)
		}

		// Onboarding in Japanese: errors in Japanese, then the welcome page.
		ticket, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/marketplace/aws/onboarding?ticket="))
		form := url.Values{"ticket": {ticket}, "company": {"Contoso Ltd"}, "name": {"Ada"}, "email": {"ada@contoso.example"}, "password": {"short"}}
		post := func(b *browser, hdr map[string]string) resp {
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			for k, v := range hdr {
				h[k] = v
			}
			return b.do(http.MethodPost, "/marketplace/aws/onboarding", form.Encode(), h)
		}
		if r := post(buyer, ja); r.code != 400 || !strings.Contains(string(r.body), "パスワードは 10 文字以上でご入力ください。") {
			t.Fatalf("short password in Japanese: %d %s", r.code, r.body)
		}
		form.Set("password", "a-good-password")
		r := post(buyer, ja)
		if r.code != http.StatusSeeOther || cookieOf(r) == "" {
			t.Fatalf("onboarding: %d %s", r.code, r.body)
		}
		welcome := buyer.do(http.MethodGet, r.hdr.Get("Location"), "", ja)
		wb := string(welcome.body)
		for _, want := range []string{"Acme Cloud へようこそ", "カスタマーポータルを開く", `href="/"`, "Contoso Ltd", "有効化待ち",
			`src="https://cdn.acme.example/logo.png"`, "--accent:#aa3300", "help@acme.example", "https://acme.example/support",
			`href="https://docs.acme.example/start"`, "Quick start guide", "ada@contoso.example としてサインインしています。"} {
			if !strings.Contains(wb, want) {
				t.Fatalf("welcome page lacks %q: %s", want, wb)
			}
		}
		nonce := regexp.MustCompile(`<style nonce="([^"]+)">`).FindStringSubmatch(wb)
		if nonce == nil || !strings.Contains(welcome.hdr.Get("Content-Security-Policy"), "'nonce-"+nonce[1]+"'") {
			t.Fatalf("the accent's style is not allowed by its nonce: %s", welcome.hdr.Get("Content-Security-Policy"))
		}
		var me struct{ User struct{ Role string } }
		buyer.get("/api/auth/me").json(t, &me)
		if me.User.Role != store.RoleCustomerAdmin {
			t.Fatalf("the buyer is signed in as %q", me.User.Role)
		}
		// In English by the switch.
		enWelcome := buyer.do(http.MethodGet, r.hdr.Get("Location"), "", map[string]string{"Accept-Language": "ja", "Cookie": buyer.cookie + "; lang=en"})
		if !strings.Contains(string(enWelcome.body), "Welcome to Acme Cloud") || !strings.Contains(string(enWelcome.body), "Open the customer portal") {
			t.Fatalf("welcome in English: %s", enWelcome.body)
		}
		// The buyer invites a colleague: the invitation page carries the product's branding.
		var inv inviteCreated
		buyer.do(http.MethodPost, "/api/customer-admins/invites", `{"email":"ken@contoso.example"}`, nil).json(t, &inv)
		if inv.Emailed || inv.URL == "" {
			t.Fatalf("invitation without SMTP: %+v", inv)
		}
		ip := (&browser{e: e.env}).do(http.MethodGet, inv.URL[strings.Index(inv.URL, "/invite"):], "", ja)
		if !strings.Contains(string(ip.body), `<span class="brand-name">Acme Cloud</span>`) || !strings.Contains(string(ip.body), "Contoso Ltd に参加") {
			t.Fatalf("invitation page: %s", ip.body)
		}
	})
}

// A seller trying their own sandbox in the browser they are signed in
// with keeps their session: the buyer's account is made, not signed in.
func TestBuyerFlowKeepsTheSellersSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		e.user("seller@example.com", store.RoleAdmin, nil)
		seller := e.login("seller@example.com")
		before := seller.cookie
		loc := e.register(url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(caBuyer)}}).hdr.Get("Location")
		ticket, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/marketplace/aws/onboarding?ticket="))
		form := url.Values{"ticket": {ticket}, "company": {"Contoso Ltd"}, "name": {"Ada"}, "email": {"ada@contoso.example"}, "password": {"a-good-password"}}
		r := seller.do(http.MethodPost, "/marketplace/aws/onboarding", form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.code != http.StatusSeeOther || cookieOf(r) != "" || seller.cookie != before {
			t.Fatalf("onboarding in the seller's browser: %d, cookie set %q", r.code, cookieOf(r))
		}
		var me struct{ User struct{ Email, Role string } }
		seller.get("/api/auth/me").json(t, &me)
		if me.User.Email != "seller@example.com" || me.User.Role != store.RoleAdmin {
			t.Fatalf("the seller's session was replaced: %+v", me.User)
		}
		if u, err := st.UserByEmail(t.Context(), "ada@contoso.example"); err != nil || u.Role != store.RoleCustomerAdmin {
			t.Fatalf("the buyer's account: %v %v", u, err)
		}
		welcome := seller.get(r.hdr.Get("Location"))
		wb := string(welcome.body)
		if welcome.code != 200 || !strings.Contains(wb, "The buyer&#39;s account is ready.") || !strings.Contains(wb, "private window") ||
			strings.Contains(wb, "Open the customer portal") {
			t.Fatalf("welcome for the seller: %d %s", welcome.code, wb)
		}
		// The buyer signs in in another browser and sees their welcome page.
		buyer := &browser{e: e.env}
		if r := buyer.do(http.MethodPost, "/api/auth/login", `{"email":"ada@contoso.example","password":"a-good-password"}`, nil); r.code != 200 {
			t.Fatalf("buyer login: %d %s", r.code, r.body)
		}
		if p := buyer.get(r.hdr.Get("Location")); !strings.Contains(string(p.body), "Open the customer portal") {
			t.Fatalf("buyer's welcome: %s", p.body)
		}
		// Another customer's admin cannot open it.
		other := st.TestingDB(t)
		cu := store.Customer{Name: "Other"}
		cu.CreatedAt, cu.UpdatedAt = timeNow(), timeNow()
		if err := other.Create(&cu).Error; err != nil {
			t.Fatal(err)
		}
		e.user("eve@other.example", store.RoleCustomerAdmin, &cu.ID)
		if p := e.login("eve@other.example").get(r.hdr.Get("Location")); p.code != http.StatusNotFound {
			t.Fatalf("another customer's admin: %d", p.code)
		}
	})
}

func TestAzureWelcomeInJapaneseAndSellerSessionKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		e.user("seller@example.com", store.RoleAdmin, nil)
		seller := e.login("seller@example.com")
		brandOffer(t, seller, 1)

		_, token, who := e.buy("seats", 12)
		b := &browser{e: e.env}
		r := e.land(b, token, who)
		page := b.do(http.MethodGet, r.hdr.Get("Location"), "", map[string]string{"Accept-Language": "ja"})
		pb := string(page.body)
		for _, want := range []string{"Acme Cloud へようこそ", "カスタマーポータルを開く", "<dt>シート数</dt><dd>12</dd>", "有効", "help@acme.example", "Quick start guide"} {
			if !strings.Contains(pb, want) {
				t.Fatalf("Microsoft welcome lacks %q: %s", want, pb)
			}
		}
		if strings.Contains(pb, "close this page") {
			t.Fatal("the welcome page still ends with “close this page”")
		}

		// The seller lands a purchase in their own browser: still the seller.
		before := seller.cookie
		_, token2, who2 := e.buy("auto", 0)
		r2 := e.land(seller, token2, who2)
		if r2.code != http.StatusSeeOther || seller.cookie != before {
			t.Fatalf("landing in the seller's browser: %d, session replaced: %v", r2.code, seller.cookie != before)
		}
		var me struct{ User struct{ Email string } }
		seller.get("/api/auth/me").json(t, &me)
		if me.User.Email != "seller@example.com" {
			t.Fatalf("signed in as %q after a landing", me.User.Email)
		}
		if p := seller.get(r2.hdr.Get("Location")); !strings.Contains(string(p.body), "private window") {
			t.Fatalf("seller's view of the welcome page: %s", p.body)
		}
		if u, err := st.UserByEmail(t.Context(), who2.EmailID); err != nil || u.Role != store.RoleCustomerAdmin {
			t.Fatalf("the buyer's account: %v %v", u, err)
		}
	})
}

// ---- the branding's validation ----

func TestOfferBrandingValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@example.com", store.RoleAdmin, nil)
		e.user("op@example.com", store.RoleOperator, nil)
		admin := e.login("admin@example.com")
		r := admin.do(http.MethodPost, "/api/offers", `{"marketplace":"azure","name":"Acme","marketplace_id":"acme"}`, nil)
		if r.code != http.StatusCreated {
			t.Fatalf("offer: %d %s", r.code, r.body)
		}
		patch := func(b *browser, branding string) resp {
			return b.do(http.MethodPatch, "/api/offers/1", `{"branding":`+branding+`}`, nil)
		}
		png := "data:image/png;base64," + strings.Repeat("A", 64)
		for _, c := range []struct{ branding, code string }{
			{`{"logo_url":"javascript:alert(1)"}`, "branding_logo_invalid"},
			{`{"logo_url":"http://acme.example/logo.png"}`, "branding_logo_invalid"},
			{`{"logo_url":"//evil.example/logo.png"}`, "branding_logo_invalid"},
			{`{"logo_url":"data:image/svg+xml;base64,PHN2Zz4="}`, "branding_logo_invalid"},
			{`{"logo_url":"data:image/png;base64,` + strings.Repeat("A", 70000) + `"}`, "branding_logo_invalid"},
			{`{"accent_color":"red"}`, "branding_accent_invalid"},
			{`{"accent_color":"#12345g"}`, "branding_accent_invalid"},
			{`{"accent_color":"#123;}body{x"}`, "branding_accent_invalid"},
			{`{"support_email":"not an address"}`, "branding_email_invalid"},
			{`{"support_url":"/marketplace/aws/welcome"}`, "branding_url_invalid"},
			{`{"product_name":"<script>"}`, "branding_text_invalid"},
			{`{"getting_started":[{"title":"x","url":"javascript:alert(1)"}]}`, "branding_links_invalid"},
			{`{"getting_started":[{"title":"","url":"https://a.example"}]}`, "branding_links_invalid"},
			{`{"getting_started":[` + strings.Repeat(`{"title":"x","url":"https://a.example"},`, 5) + `{"title":"x","url":"https://a.example"}]}`, "branding_links_invalid"},
		} {
			patch(admin, c.branding).errCode(t, http.StatusBadRequest, c.code)
		}
		patch(e.login("op@example.com"), `{"accent_color":"#000000"}`).errCode(t, http.StatusForbidden, "forbidden")
		var out struct {
			Offer struct {
				Branding struct {
					LogoURL        string                        `json:"logo_url"`
					AccentColor    string                        `json:"accent_color"`
					GettingStarted []struct{ Title, URL string } `json:"getting_started"`
				} `json:"branding"`
			} `json:"offer"`
		}
		r = patch(admin, `{"logo_url":"`+png+`","accent_color":"#A0B1C2","getting_started":[{"title":"Docs","url":"https://docs.example/"}]}`)
		r.json(t, &out)
		if r.code != 200 || out.Offer.Branding.LogoURL != png || out.Offer.Branding.AccentColor != "#a0b1c2" || len(out.Offer.Branding.GettingStarted) != 1 {
			t.Fatalf("saved: %d %s", r.code, r.body)
		}
		// A PATCH without branding leaves it as it is.
		admin.do(http.MethodPatch, "/api/offers/1", `{"name":"Acme 2"}`, nil).json(t, &out)
		if out.Offer.Branding.AccentColor != "#a0b1c2" {
			t.Fatalf("branding lost on a name change: %+v", out.Offer.Branding)
		}
	})
}

// ---- invitations by e-mail ----

type inviteCreated struct {
	URL     string `json:"url"`
	Emailed bool   `json:"emailed"`
}

func TestInvitationsByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := smtptest.Start(t)
		addr := sink.Addr
		mailer := &alerts.Service{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			SMTP: &alerts.SMTP{Addr: addr, From: "Marketgate <noreply@seller.example>"}}
		e := newEnvWith(t, st, func(d *api.Deps) { d.Mail = mailer })
		e.user("admin@example.com", store.RoleAdmin, nil)
		cu := store.Customer{Name: "Contoso Ltd"}
		cu.CreatedAt, cu.UpdatedAt = timeNow(), timeNow()
		if err := st.TestingDB(t).Create(&cu).Error; err != nil {
			t.Fatal(err)
		}
		e.user("ada@contoso.example", store.RoleCustomerAdmin, &cu.ID)

		// A customer admin invites a colleague, in Japanese (their browser's language).
		var got inviteCreated
		r := e.login("ada@contoso.example").do(http.MethodPost, "/api/customer-admins/invites", `{"email":"bob@contoso.example"}`,
			map[string]string{"Accept-Language": "ja-JP"})
		r.json(t, &got)
		if r.code != http.StatusCreated || !got.Emailed || !strings.HasPrefix(got.URL, "http://portal.test/invite?token=") {
			t.Fatalf("customer admin's invitation: %d %s", r.code, r.body)
		}
		msgs := sink.Messages()
		if len(msgs) != 1 || !strings.Contains(msgs[0], "To: <bob@contoso.example>") || !strings.Contains(msgs[0], got.URL) ||
			!strings.Contains(msgs[0], "Contoso Ltd のサブスクリプションとシートを管理") {
			t.Fatalf("mail: %q", msgs)
		}
		// The invitation's page opens in its language when the browser says nothing,
		// branded with the customer's product.
		path := got.URL[strings.Index(got.URL, "/invite"):]
		if p := (&browser{e: e}).do(http.MethodGet, path, "", map[string]string{"Accept-Language": ""}); !strings.Contains(string(p.body), "Contoso Ltd に参加") {
			t.Fatalf("invitation page: %s", p.body)
		}

		// Seller staff: an admin invites a colleague, the invitee's language chosen.
		r = e.login("admin@example.com").do(http.MethodPost, "/api/users/invites", `{"email":"cy@seller.example","name":"Cy","role":"operator","language":"en"}`,
			map[string]string{"Accept-Language": "ja"})
		r.json(t, &got)
		msgs = sink.Messages()
		if r.code != http.StatusCreated || !got.Emailed || len(msgs) != 2 || !strings.Contains(msgs[1], "To: <cy@seller.example>") ||
			!strings.Contains(msgs[1], got.URL) || !strings.Contains(msgs[1], "as an operator") {
			t.Fatalf("staff invitation: %d %s %q", r.code, r.body, msgs)
		}
		// The link in the mail opens the invitation.
		link := regexp.MustCompile(`http://portal\.test/invite\?token=\S+`).FindString(msgs[1])
		if p := (&browser{e: e}).get(link[len("http://portal.test"):]); p.code != 200 || !strings.Contains(string(p.body), "Cy") {
			t.Fatalf("the mailed link: %d %s", p.code, p.body)
		}
	})
}

func TestInvitationWithoutMailIsCopied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@example.com", store.RoleAdmin, nil)
		var got inviteCreated
		r := e.login("admin@example.com").do(http.MethodPost, "/api/users/invites", `{"email":"cy@seller.example","name":"Cy","role":"viewer"}`, nil)
		r.json(t, &got)
		if r.code != http.StatusCreated || got.Emailed || !strings.HasPrefix(got.URL, "http://portal.test/invite?token=") {
			t.Fatalf("without SMTP: %d %s", r.code, r.body)
		}
		var raw map[string]any
		_ = json.Unmarshal(r.body, &raw)
		if raw["emailed"] != false {
			t.Fatalf("emailed missing: %s", r.body)
		}
	})
}

func timeNow() time.Time { return time.Now().UTC() }

// The e-mail verification's pages and e-mail follow the buyer's language.
func TestOnboardingVerificationInJapanese(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sink := smtptest.Start(t)
		addr := sink.Addr
		e := newAWSEnvWith(t, st, func(d *api.Deps) {
			d.Mail = &alerts.Service{Store: st, Log: d.Log, SMTP: &alerts.SMTP{Addr: addr, From: "Marketgate <no-reply@seller.example>"}}
		})
		loc := e.register(url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(caBuyer)}}).hdr.Get("Location")
		ticket, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/marketplace/aws/onboarding?ticket="))
		form := url.Values{"ticket": {ticket}, "company": {"東京商事株式会社"}, "name": {"佐藤花子"}, "email": {"hanako@tokyo.example"}, "password": {"a-good-password"}}
		ja := map[string]string{"Accept-Language": "ja-JP", "Content-Type": "application/x-www-form-urlencoded"}
		b := &browser{e: e.env}
		r := b.do(http.MethodPost, "/marketplace/aws/onboarding", form.Encode(), ja)
		if r.code != 200 || !strings.Contains(string(r.body), "メールをご確認ください") || !strings.Contains(string(r.body), "hanako@tokyo.example 宛てにリンクをお送りしました。") {
			t.Fatalf("check your inbox in Japanese: %d %s", r.code, r.body)
		}
		msgs := sink.Messages()
		if len(msgs) != 1 || !strings.Contains(msgs[0], "佐藤花子 様") || !strings.Contains(msgs[0], "=?UTF-8?") {
			t.Fatalf("verification e-mail in Japanese: %q", msgs)
		}
		link := regexp.MustCompile(`/marketplace/aws/verify\?token=[A-Za-z0-9_%-]+`).FindString(msgs[0])
		page := b.do(http.MethodGet, link, "", map[string]string{"Accept-Language": "ja"})
		if !strings.Contains(string(page.body), "確認してアカウントを作成") || !strings.Contains(string(page.body), "東京商事株式会社 の管理者アカウント") {
			t.Fatalf("confirmation page in Japanese: %s", page.body)
		}
	})
}
