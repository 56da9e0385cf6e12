package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

const (
	msTenant = "11111111-2222-4333-8444-555555555555"
	msClient = "66666666-7777-4888-9999-aaaaaaaaaaaa"
	msSecret = "sandbox-secret-value"
	msOffer  = "acme-saas"
)

// azureEnv is Marketgate with the real Microsoft client, token verifiers
// and azidentity, against the simulated Entra (https, as MSAL requires)
// and the simulated marketplace, whose webhooks reach our handler over HTTP.
type azureEnv struct {
	*env
	entra   *azurefake.Entra
	mk      *azurefake.Marketplace
	proc    *azuremp.Processor
	webhook *azuremp.NotificationVerifier
	esrv    *httptest.Server
	now     time.Time
	// lose, when set, makes Microsoft's webhook calls fail on the way (no
	// answer reaches Microsoft; our server never sees them).
	lose atomic.Bool

	mailMu sync.Mutex
	mails  []sentMail // what Marketgate e-mailed
}

type sentMail struct{ To, Subject, Text string }

func (e *azureEnv) sent() []sentMail {
	e.mailMu.Lock()
	defer e.mailMu.Unlock()
	return append([]sentMail(nil), e.mails...)
}

func newAzureEnv(t *testing.T, st *store.Store, opts ...func(*azurefake.Options)) *azureEnv {
	t.Helper()
	esrv := httptest.NewUnstartedServer(nil)
	esrv.StartTLS()
	t.Cleanup(esrv.Close)
	entra := azurefake.NewEntra(esrv.URL, nil)
	entra.RegisterApp(msTenant, msClient, msSecret)
	esrv.Config.Handler = entra

	e := &azureEnv{entra: entra, esrv: esrv}
	ours := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ours.Close)
	deliver := azurefake.HTTPWebhook(nil, ours.URL+"/marketplace/azure/webhook")
	msrv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(msrv.Close)
	mo := azurefake.Options{Base: msrv.URL, Entra: entra, PublisherID: "acme",
		Offers: []azurefake.Offer{{OfferID: msOffer, Name: "Acme SaaS", Plans: []azurefake.Plan{
			{PlanID: "auto", DisplayName: "Automatic"}, {PlanID: "confirm", DisplayName: "Buyer confirms"},
			{PlanID: "approve", DisplayName: "Seller approves"},
			{PlanID: "seats", DisplayName: "Seats", PerSeat: true, MinQuantity: 1, MaxQuantity: 50},
			{PlanID: "locked", DisplayName: "Locked seats", PerSeat: true, MinQuantity: 1, MaxQuantity: 50},
		}}},
		PartnerDelay: time.Second, Webhook: func(ctx context.Context, body []byte, authorization string) (int, error) {
			if e.lose.Load() {
				return 0, errors.New("connection reset")
			}
			return deliver(ctx, body, authorization)
		},
		WebhookAudience: msClient, WebhookTenant: msTenant}
	for _, o := range opts {
		o(&mo)
	}
	e.mk = azurefake.NewMarketplace(mo)
	msrv.Config.Handler = e.mk

	client, err := azuremp.New(azuremp.Config{TenantID: msTenant, ClientID: msClient, ClientSecret: msSecret, APIURL: msrv.URL,
		LoginURL: esrv.URL, TokenHTTP: esrv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.proc = &azuremp.Processor{Store: st, Log: log, Client: client}
	e.webhook = azuremp.NewNotificationVerifier(msTenant, msClient, esrv.URL, esrv.Client())
	h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: log, Info: api.Info{BaseURL: "http://portal.test"}, Azure: e.proc,
		AzureSignIn: &api.AzureSignIn{
			OAuth: &oauth2.Config{ClientID: msClient, ClientSecret: msSecret, RedirectURL: "http://portal.test/marketplace/azure/callback",
				Scopes: []string{"openid", "profile", "email"}, Endpoint: oauth2.Endpoint{AuthURL: esrv.URL + "/organizations/oauth2/v2.0/authorize",
					TokenURL: esrv.URL + "/organizations/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}},
			IDTokens: azuremp.NewIDTokenVerifier(msClient, esrv.URL, esrv.Client()), HTTP: esrv.Client(),
			Mail: func(_ context.Context, to, subject, text string) error {
				e.mailMu.Lock()
				defer e.mailMu.Unlock()
				e.mails = append(e.mails, sentMail{to, subject, text})
				return nil
			}},
		AzureNotifications: e.webhook,
		// What the server's azure.inbox job does when nudged.
		AzureNotificationReceived: func(id uint) {
			go func() {
				if m, err := st.GetInbox(context.Background(), id); err == nil {
					_ = e.proc.ProcessNotification(context.Background(), m)
				}
			}()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ours.Config.Handler = h
	e.env = &env{t: t, st: st, h: h}
	e.now = time.Now().UTC()
	offer := store.Offer{Marketplace: "azure", Name: "Acme SaaS", MarketplaceID: msOffer, CreatedAt: e.now, UpdatedAt: e.now}
	if err := st.TestingDB(t).Create(&offer).Error; err != nil {
		t.Fatal(err)
	}
	plans := []store.Plan{
		{OfferID: offer.ID, PlanID: "auto", Name: "Automatic", ActivationPolicy: store.ActivateAutomatic},
		{OfferID: offer.ID, PlanID: "confirm", Name: "Buyer confirms", ActivationPolicy: store.ActivateBuyerConfirms},
		{OfferID: offer.ID, PlanID: "approve", Name: "Seller approves", ActivationPolicy: store.ActivateSellerApproves},
		{OfferID: offer.ID, PlanID: "seats", Name: "Seats", SeatBased: true, ActivationPolicy: store.ActivateAutomatic, MaxQuantity: 30},
		{OfferID: offer.ID, PlanID: "locked", Name: "Locked seats", SeatBased: true, ActivationPolicy: store.ActivateAutomatic, RejectQuantityChange: true},
	}
	for i := range plans {
		plans[i].Dimensions, plans[i].CreatedAt, plans[i].UpdatedAt = "[]", e.now, e.now
	}
	if err := st.TestingDB(t).Create(&plans).Error; err != nil {
		t.Fatal(err)
	}
	return e
}

// buyer purchases a plan at the simulated marketplace and returns the
// Microsoft subscription id, the purchase token and the buyer.
func (e *azureEnv) buy(plan string, seats int) (string, string, azurefake.Party) {
	e.t.Helper()
	p := azurefake.Party{EmailID: fmt.Sprintf("buyer-%d@contoso.example", time.Now().UnixNano()), ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
	id, token, err := e.mk.Purchase(msOffer, plan, seats, p, p, "Contoso "+plan)
	if err != nil {
		e.t.Fatal(err)
	}
	return id, token, p
}

// land walks the buyer's browser through the landing page and the Entra
// sign-in as the given user, and returns the callback's answer.
func (e *azureEnv) land(b *browser, token string, who azurefake.Party) resp {
	e.t.Helper()
	return e.signInWithEntra(b, "/marketplace/azure/landing?token="+url.QueryEscape(token), who, func(authURL string) {
		if strings.Contains(authURL, url.QueryEscape(token)) || strings.Contains(authURL, token) {
			e.t.Fatal("the purchase token leaked into the sign-in URL")
		}
	})
}

func (e *azureEnv) ours(msID string) store.Subscription {
	e.t.Helper()
	var s store.Subscription
	e.st.TestingReadDB(e.t).Preload("Plan").Where("azure_subscription_id = ?", msID).Limit(1).Find(&s)
	return s
}

func (e *azureEnv) timeline(id uint, kind string) int {
	var n int64
	e.st.TestingReadDB(e.t).Model(&store.TimelineEvent{}).Where("subscription_id = ? AND kind = ?", id, kind).Count(&n)
	return int(n)
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAzureLanding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)

		// Automatic activation: signed in, resolved, activated, first-use page.
		msID, token, who := e.buy("auto", 0)
		b := &browser{e: e.env}
		r := e.land(b, token, who)
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/marketplace/azure/welcome?subscription=") {
			t.Fatalf("callback: %d %s %s", r.code, r.hdr.Get("Location"), r.body)
		}
		sub := e.ours(msID)
		if ms, _ := e.mk.Get(msID); sub.State != "active" || ms.Status != "Subscribed" {
			t.Fatalf("automatic: ours %s, Microsoft %s", sub.State, ms.Status)
		}
		page := b.get(r.hdr.Get("Location"))
		if page.code != 200 || !strings.Contains(string(page.body), "Getting started") || !strings.Contains(string(page.body), who.EmailID) {
			t.Fatalf("first-use page: %d %s", page.code, page.body)
		}
		// The buyer is now the customer admin of their organisation (keyed by tenant) and signed in.
		var u store.User
		st.TestingReadDB(t).Where("email = ?", who.EmailID).First(&u)
		var cust store.Customer
		st.TestingReadDB(t).First(&cust, *sub.CustomerID)
		if u.Role != "customer_admin" || u.CustomerID == nil || *u.CustomerID != cust.ID || cust.AzureTenantID != who.TenantID {
			t.Fatalf("customer admin: %+v %+v", u, cust)
		}
		var list struct{ Total int }
		b.get("/api/subscriptions").json(t, &list)
		if list.Total != 1 {
			t.Fatalf("the buyer sees %d subscriptions", list.Total)
		}
		// Opening the landing page again ("Manage account") does not activate twice.
		e.land(&browser{e: e.env}, token, who)
		if n := e.timeline(sub.ID, "azure.activated"); n != 1 {
			t.Fatalf("activated %d times", n)
		}

		// The buyer confirms: pending until the button; a double click activates once.
		msID, token, who = e.buy("confirm", 0)
		b = &browser{e: e.env}
		r = e.land(b, token, who)
		page = b.get(r.hdr.Get("Location"))
		sub = e.ours(msID)
		if sub.State != "pending" || !strings.Contains(string(page.body), "Activate subscription") {
			t.Fatalf("buyer confirms: %s %s", sub.State, page.body)
		}
		form := fmt.Sprintf(`subscription=%d`, sub.ID)
		for i := 0; i < 2; i++ {
			r = b.do(http.MethodPost, "/marketplace/azure/activate", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if r.code != http.StatusSeeOther {
				t.Fatalf("activate %d: %d %s", i, r.code, r.body)
			}
		}
		if sub = e.ours(msID); sub.State != "active" || e.timeline(sub.ID, "azure.activated") != 1 {
			t.Fatalf("after a double click: %s, %d activations", sub.State, e.timeline(sub.ID, "azure.activated"))
		}
		// Someone else's session cannot activate it.
		r = (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/activate", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.code != http.StatusForbidden {
			t.Fatalf("anonymous activate: %d", r.code)
		}

		// The seller approves: pending until a seller activates it in the portal.
		msID, token, who = e.buy("approve", 0)
		e.land(&browser{e: e.env}, token, who)
		sub = e.ours(msID)
		if sub.State != "pending" {
			t.Fatalf("seller approves: %s", sub.State)
		}
		e.user("viewer@example.com", store.RoleViewer, nil)
		e.user("operator@example.com", store.RoleOperator, nil)
		e.login("viewer@example.com").do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/azure/activate", sub.ID), "", nil).errCode(t, 403, "forbidden")
		op := e.login("operator@example.com")
		if r := op.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/azure/activate", sub.ID), "", nil); r.code != 200 {
			t.Fatalf("seller activate: %d %s", r.code, r.body)
		}
		if sub = e.ours(msID); sub.State != "active" {
			t.Fatalf("after approval: %s", sub.State)
		}
		op.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/azure/activate", sub.ID), "", nil) // again: nothing more
		if e.timeline(sub.ID, "azure.activated") != 1 {
			t.Fatal("approved twice")
		}

		// Problems: no token, a token Microsoft does not know.
		if r := (&browser{e: e.env}).get("/marketplace/azure/landing"); r.code != 400 || !strings.Contains(string(r.body), "couldn") {
			t.Fatalf("no token: %d %s", r.code, r.body)
		}
		r = e.land(&browser{e: e.env}, "not-a-real-token+/=", who)
		if r.code != 400 || !strings.Contains(string(r.body), "couldn&#39;t identify this purchase") {
			t.Fatalf("unknown token: %d %s", r.code, r.body)
		}
		// A replayed callback (the state is single-use) is refused.
		if r := (&browser{e: e.env}).get("/marketplace/azure/callback?state=nope&code=x"); r.code != 400 {
			t.Fatalf("unknown state: %d", r.code)
		}
	})
}

// forge signs a token with a key Entra never published, under Entra's key id.
func forge(t *testing.T, kid string, claims jwt.MapClaims) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAzureWebhookAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, who := e.buy("seats", 5)
		e.land(&browser{e: e.env}, token, who)
		before := e.ours(msID)
		good := e.entra.WebhookToken(msTenant, msClient)
		parts := strings.Split(good, ".")
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		var h struct {
			Kid string `json:"kid"`
		}
		_ = json.Unmarshal(hdr, &h)
		now := time.Now()
		claims := func(over map[string]any) map[string]any {
			c := map[string]any{"iss": e.entra.Issuer(msTenant), "aud": msClient, "tid": msTenant, "azp": azuremp.Resource,
				"appid": azuremp.Resource, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
			for k, v := range over {
				if v == nil {
					delete(c, k)
				} else {
					c[k] = v
				}
			}
			return c
		}
		body := fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Suspend","status":"Succeeded","timeStamp":"2026-06-02T09:12:03.3851234Z"}`, azuremp.NewGUID(), msID)
		cases := map[string]string{
			"no token":        "",
			"not bearer":      "Basic " + good,
			"garbage":         "Bearer not.a.jwt",
			"forged":          "Bearer " + forge(t, h.Kid, jwt.MapClaims(claims(nil))),
			"expired":         "Bearer " + e.entra.Sign(claims(map[string]any{"exp": now.Add(-10 * time.Minute).Unix(), "nbf": now.Add(-time.Hour).Unix()})),
			"no expiry":       "Bearer " + e.entra.Sign(claims(map[string]any{"exp": nil})),
			"wrong audience":  "Bearer " + e.entra.Sign(claims(map[string]any{"aud": "someone-else"})),
			"wrong tenant":    "Bearer " + e.entra.Sign(claims(map[string]any{"tid": azuremp.NewGUID()})),
			"wrong app":       "Bearer " + e.entra.Sign(claims(map[string]any{"azp": azuremp.NewGUID(), "appid": azuremp.NewGUID()})),
			"wrong issuer":    "Bearer " + e.entra.Sign(claims(map[string]any{"iss": "https://evil.example/" + msTenant + "/v2.0"})),
			"alg none":        "Bearer " + strings.Join([]string{base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)), parts[1], ""}, "."),
			"not yet valid":   "Bearer " + e.entra.Sign(claims(map[string]any{"nbf": now.Add(time.Hour).Unix()})),
			"other signature": "Bearer " + parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 256)),
		}
		anon := &browser{e: e.env}
		for name, authz := range cases {
			t.Run(name, func(t *testing.T) {
				r := anon.do(http.MethodPost, "/marketplace/azure/webhook", body, map[string]string{"Authorization": authz, "Sec-Fetch-Site": ""})
				r.errCode(t, http.StatusUnauthorized, "unauthenticated")
			})
		}
		var n int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("source = ?", azuremp.SourceNotification).Count(&n)
		if after := e.ours(msID); n != 0 || after.Version != before.Version || after.State != "active" {
			t.Fatalf("refused calls changed something: %d inbox rows, %s v%d → v%d", n, after.State, before.Version, after.Version)
		}
		// Accepted forms: v2 token with azp only, and the api:// audience.
		for _, c := range []map[string]any{{"appid": nil}, {"aud": "api://" + msClient}} {
			r := anon.do(http.MethodPost, "/marketplace/azure/webhook",
				fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Transfer"}`, azuremp.NewGUID(), msID),
				map[string]string{"Authorization": "Bearer " + e.entra.Sign(claims(c))})
			if r.code != 200 {
				t.Fatalf("valid token %v: %d %s", c, r.code, r.body)
			}
		}
		// A key rotation is picked up: an unknown key id fetches the keys again.
		e.entra.RotateKey()
		e.webhook.Keys.MinRefresh = time.Millisecond
		time.Sleep(5 * time.Millisecond)
		r := anon.do(http.MethodPost, "/marketplace/azure/webhook", fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Transfer"}`, azuremp.NewGUID(), msID),
			map[string]string{"Authorization": "Bearer " + e.entra.WebhookToken(msTenant, msClient)})
		if r.code != 200 {
			t.Fatalf("after a key rotation: %d %s", r.code, r.body)
		}
	})
}

func TestAzureWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)

		msID, token, who := e.buy("seats", 5)
		e.land(&browser{e: e.env}, token, who)
		sub := e.ours(msID)
		if sub.State != "active" || sub.Quantity != 5 {
			t.Fatalf("landed: %s %d", sub.State, sub.Quantity)
		}
		// A webhook that arrives before the landing page: the subscription is
		// recorded from Get subscription, in Microsoft's state.
		early, _, _ := e.buy("seats", 4)
		if err := e.mk.SetStatusSilently(early, "Subscribed"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.mk.Suspend(early); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the early webhook recorded", func() bool { s := e.ours(early); return s.State == "suspended" && s.Quantity == 4 })

		// Suspend, then the same webhook 500 times: one change.
		opID, err := e.mk.Suspend(msID)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "suspend applied", func() bool { return e.ours(msID).State == "suspended" })
		v := e.ours(msID).Version
		for i := 0; i < 500; i++ {
			if code, err := e.mk.RedeliverWebhook(msID, opID); err != nil || code != 200 {
				t.Fatalf("redelivery %d: %d %v", i, code, err)
			}
		}
		var n int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("dedup_key = ?", "op:"+opID).Count(&n)
		if got := e.ours(msID); got.Version != v || n != 1 || e.timeline(got.ID, "azure.suspend") != 1 {
			t.Fatalf("500 deliveries: version %d → %d, %d inbox rows, %d suspend entries", v, got.Version, n, e.timeline(got.ID, "azure.suspend"))
		}
		if _, err := e.mk.Reinstate(msID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "reinstate applied", func() bool { return e.ours(msID).State == "active" })

		// The customer changes seats: accepted (within the plan's limit), PATCHed
		// Success, applied once the operation has succeeded.
		opID, err = e.mk.ChangeQuantity(msID, 12)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the operation accepted", func() bool { o, _ := e.mk.Operation(msID, opID); return o.Status == "Succeeded" })
		e.pollUntil(t, "12 seats", func() bool { return e.ours(msID).Quantity == 12 })
		// Above the plan's maximum (30): rejected at once with 400; Microsoft fails it.
		opID, err = e.mk.ChangeQuantity(msID, 40)
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := e.mk.Operation(msID, opID); o.Status != "Failed" {
			t.Fatalf("over the limit: operation %s", o.Status)
		}
		// Recorded on the timeline once Get Operation has confirmed the call.
		eventually(t, "the refusal on the timeline", func() bool { return e.timeline(sub.ID, "azure.change_rejected") == 1 })
		if got := e.ours(msID); got.Quantity != 12 {
			t.Fatalf("rejected change: quantity %d", got.Quantity)
		}

		// A plan whose seats the customer may not change.
		lockedID, lockedToken, lockedWho := e.buy("locked", 5)
		e.land(&browser{e: e.env}, lockedToken, lockedWho)
		opID, _ = e.mk.ChangeQuantity(lockedID, 6)
		if o, _ := e.mk.Operation(lockedID, opID); o.Status != "Failed" || e.ours(lockedID).Quantity != 5 {
			t.Fatalf("locked plan: operation %s, quantity %d", o.Status, e.ours(lockedID).Quantity)
		}

		// Renew refreshes the term; Unsubscribe ends it (final).
		before := e.ours(msID).TermEnd
		if _, err := e.mk.Renew(msID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "renewal", func() bool { s := e.ours(msID); return s.TermEnd != nil && (before == nil || s.TermEnd.After(*before)) })
		if _, err := e.mk.Unsubscribe(msID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "unsubscribe", func() bool { return e.ours(msID).State == "ended" })

		// A call with a valid token but no usable body: 400, nothing stored.
		var stored int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("source = ?", azuremp.SourceNotification).Count(&stored)
		for _, body := range []string{`not json`, `{"subscriptionId":"x","action":"Suspend"}`, `{"id":"op","action":"Suspend"}`, `[]`} {
			r := (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/webhook", body,
				map[string]string{"Authorization": "Bearer " + e.entra.WebhookToken(msTenant, msClient)})
			if r.code != http.StatusBadRequest {
				t.Fatalf("body %s: %d %s", body, r.code, r.body)
			}
		}
		var after int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("source = ?", azuremp.SourceNotification).Count(&after)
		if after != stored {
			t.Fatalf("malformed calls were stored: %d → %d", stored, after)
		}
		// Unknown actions are stored and answered 200.
		r := (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/webhook",
			fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Transfer"}`, azuremp.NewGUID(), msID),
			map[string]string{"Authorization": "Bearer " + e.entra.WebhookToken(msTenant, msClient)})
		if r.code != 200 {
			t.Fatalf("unknown action: %d", r.code)
		}
		// A call Get Operation does not confirm (made-up operation id) changes nothing.
		fake := azuremp.NewGUID()
		r = (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/webhook",
			fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Unsubscribe","status":"Succeeded"}`, fake, lockedID),
			map[string]string{"Authorization": "Bearer " + e.entra.WebhookToken(msTenant, msClient)})
		if r.code != 200 {
			t.Fatalf("unconfirmed call: %d", r.code)
		}
		eventually(t, "the unconfirmed call marked", func() bool {
			var m store.InboxMessage
			st.TestingReadDB(t).Where("body LIKE ?", "%"+fake+"%").Limit(1).Find(&m)
			return m.Status == store.InboxFailed && strings.HasPrefix(m.Error, "rejected_unverified")
		})
		if e.ours(lockedID).State != "active" {
			t.Fatal("an unconfirmed Unsubscribe ended the subscription")
		}
		// Replayed from the portal: confirmed with Get Operation again, still
		// unconfirmed, still nothing changes; the message says so.
		var m store.InboxMessage
		st.TestingReadDB(t).Where("body LIKE ?", "%"+fake+"%").First(&m)
		e.user("ops@seller.com", store.RoleOperator, nil)
		ops := e.login("ops@seller.com")
		if r := ops.do(http.MethodPost, fmt.Sprintf("/api/inbox/%d/replay", m.ID), "", nil); r.code != 200 ||
			!strings.Contains(string(r.body), "rejected_unverified") || !strings.Contains(string(r.body), `"headers"`) {
			t.Fatalf("replay of a webhook call: %d %s", r.code, r.body)
		}
		if e.ours(lockedID).State != "active" {
			t.Fatal("a replayed unconfirmed Unsubscribe ended the subscription")
		}
		var landing store.InboxMessage
		st.TestingReadDB(t).Where("source = ?", azuremp.SourceLanding).First(&landing)
		ops.do(http.MethodPost, fmt.Sprintf("/api/inbox/%d/replay", landing.ID), "", nil).errCode(t, 409, "conflict")
		// The stored headers keep no credential.
		if r := ops.get(fmt.Sprintf("/api/inbox/%d", m.ID)); !strings.Contains(string(r.body), "verified, not stored") || strings.Contains(string(r.body), "Bearer ey") {
			t.Fatalf("stored headers: %s", r.body)
		}
		// A customer change the plan refused is never replayed: it would approve it at Microsoft.
		var refused store.InboxMessage
		if err := st.TestingReadDB(t).Where("source = ? AND error LIKE ?", azuremp.SourceNotification, "rejected: %").First(&refused).Error; err != nil {
			t.Fatal(err)
		}
		ops.do(http.MethodPost, fmt.Sprintf("/api/inbox/%d/replay", refused.ID), "", nil).errCode(t, 409, "conflict")
	})
}

// pollUntil runs the operation poller (the background job) until ok.
func (e *azureEnv) pollUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		e.st.TestingDB(e.t).Model(&store.AzureOperation{}).Where("finished_at IS NULL").Update("next_poll_at", time.Now().Add(-time.Second))
		e.mk.Tick()
		e.proc.PollOperations(context.Background())
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAzurePublisherOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		e.user("operator@example.com", store.RoleOperator, nil)
		op := e.login("operator@example.com")
		msID, token, who := e.buy("seats", 5)
		e.land(&browser{e: e.env}, token, who)
		sub := e.ours(msID)
		path := fmt.Sprintf("/api/subscriptions/%d/azure", sub.ID)

		// Plans come from ListAvailablePlans.
		var plans struct {
			Plans []struct {
				PlanID string `json:"plan_id"`
			} `json:"plans"`
		}
		op.get(path+"/plans").json(t, &plans)
		if len(plans.Plans) != 5 {
			t.Fatalf("plans: %+v", plans)
		}
		// Bad input.
		op.do(http.MethodPost, path+"/change", `{"action":"ChangePlan"}`, nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, path+"/change", `{"action":"ChangeQuantity","quantity":0}`, nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, path+"/change", `{"action":"Frobnicate"}`, nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, path+"/change", `{"action":"ChangePlan","plan_id":"platinum"}`, nil).errCode(t, 400, "invalid_input")
		op.do(http.MethodPost, path+"/change", `{"action":"ChangePlan","plan_id":"seats"}`, nil).errCode(t, 400, "invalid_input")

		// A plan change: 202, followed until it succeeds, then applied.
		r := op.do(http.MethodPost, path+"/change", `{"action":"ChangePlan","plan_id":"locked"}`, nil)
		if r.code != http.StatusAccepted {
			t.Fatalf("change plan: %d %s", r.code, r.body)
		}
		// While it runs, another change is refused (409 from Microsoft).
		op.do(http.MethodPost, path+"/change", `{"action":"ChangeQuantity","quantity":8}`, nil).errCode(t, 409, "conflict")
		e.pollUntil(t, "the plan change", func() bool { s := e.ours(msID); return s.Plan != nil && s.Plan.PlanID == "locked" })
		var detail struct {
			Operations []struct {
				Action, Status, Source string
				ErrorMessage           string `json:"error_message"`
			} `json:"operations"`
		}
		op.get(fmt.Sprintf("/api/subscriptions/%d", sub.ID)).json(t, &detail)
		if len(detail.Operations) != 1 || detail.Operations[0].Status != "Succeeded" || detail.Operations[0].Source != "Partner" {
			t.Fatalf("operations: %+v", detail.Operations)
		}
		// A change the marketplace fails: Microsoft's own message shows.
		e.mk.FailNextOperation("The customer's payment instrument was declined.")
		if r := op.do(http.MethodPost, path+"/change", `{"action":"ChangeQuantity","quantity":9}`, nil); r.code != http.StatusAccepted {
			t.Fatalf("change quantity: %d %s", r.code, r.body)
		}
		e.pollUntil(t, "the failure", func() bool {
			op.get(fmt.Sprintf("/api/subscriptions/%d", sub.ID)).json(t, &detail)
			return detail.Operations[0].Status == "Failed"
		})
		if !strings.Contains(detail.Operations[0].ErrorMessage, "payment instrument was declined") || e.ours(msID).Quantity != 5 {
			t.Fatalf("failed operation: %+v, quantity %d", detail.Operations[0], e.ours(msID).Quantity)
		}
		// Microsoft unavailable: a clear error, nothing started.
		e.mk.FailNext("patch", 500, `{"error":{"code":"InternalError","message":"try later"}}`)
		op.do(http.MethodPost, path+"/change", `{"action":"ChangeQuantity","quantity":9}`, nil).errCode(t, 502, "marketplace_error")
		// Unsubscribe.
		if r := op.do(http.MethodPost, path+"/change", `{"action":"Unsubscribe"}`, nil); r.code != http.StatusAccepted {
			t.Fatalf("unsubscribe: %d %s", r.code, r.body)
		}
		e.pollUntil(t, "the cancellation", func() bool { return e.ours(msID).State == "ended" })
	})
}

func TestAzureReconciliation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		e.user("operator@example.com", store.RoleOperator, nil)
		op := e.login("operator@example.com")
		a, ta, wa := e.buy("seats", 5)
		e.land(&browser{e: e.env}, ta, wa)
		b, tb, wb := e.buy("auto", 0)
		e.land(&browser{e: e.env}, tb, wb)
		c, _, _ := e.buy("auto", 0) // never landed: unknown here
		// Webhooks that never arrived.
		if err := e.mk.SetQuantitySilently(a, 11); err != nil {
			t.Fatal(err)
		}
		if err := e.mk.SetPlanSilently(b, "confirm"); err != nil {
			t.Fatal(err)
		}
		if err := e.mk.SetStatusSilently(b, "Suspended"); err != nil {
			t.Fatal(err)
		}
		var out struct {
			Report azuremp.ReconcileReport `json:"report"`
		}
		r := op.do(http.MethodPost, "/api/azure/reconcile", "", nil)
		if r.code != 200 {
			t.Fatalf("reconcile: %d %s", r.code, r.body)
		}
		r.json(t, &out)
		if out.Report.Seen != 3 || out.Report.Repaired != 3 || out.Report.Failed != 0 {
			t.Fatalf("report: %+v", out.Report)
		}
		if s := e.ours(a); s.Quantity != 11 {
			t.Fatalf("quantity not repaired: %d", s.Quantity)
		}
		if s := e.ours(b); s.State != "suspended" || s.Plan.PlanID != "confirm" {
			t.Fatalf("state/plan not repaired: %s %s", s.State, s.Plan.PlanID)
		}
		if s := e.ours(c); s.ID == 0 || s.State != "pending" {
			t.Fatalf("unknown subscription: %+v", s)
		}
		tl, _ := st.Timeline(context.Background(), e.ours(a).ID)
		found := false
		for _, x := range tl {
			found = found || (x.Kind == "reconciled" && strings.Contains(x.Summary, "repaired: quantity 5 → 11"))
		}
		if !found {
			t.Fatal("the repair is not on the timeline")
		}
		// A second run finds nothing to repair.
		op.do(http.MethodPost, "/api/azure/reconcile", "", nil).json(t, &out)
		if out.Report.Repaired != 0 {
			t.Fatalf("second run repaired %d", out.Report.Repaired)
		}
	})
}
