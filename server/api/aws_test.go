package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// awsEnv is the server with the real AWS SDK client pointed at the
// wire-level Metering fake.
type awsEnv struct {
	*env
	fake *awsfake.Metering
	log  *strings.Builder
}

func newAWSEnv(t *testing.T, st *store.Store) *awsEnv { return newAWSEnvWith(t, st, nil) }

// newAWSEnvWith is newAWSEnv with dependencies set by the test.
func newAWSEnvWith(t *testing.T, st *store.Store, set func(*api.Deps)) *awsEnv {
	t.Helper()
	fake := awsfake.NewMetering(nil)
	fsrv := httptest.NewServer(fake)
	t.Cleanup(fsrv.Close)
	client, err := awsmp.New(context.Background(), awsmp.Config{MeteringEndpoint: fsrv.URL, StaticKeys: true, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d := api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: log, AWS: client, AWSEvents: &awsmp.Processor{Store: st, Log: log, AWS: client},
		Info: api.Info{BaseURL: "http://portal.test"}}
	if set != nil {
		set(&d)
	}
	h, err := api.New(d)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	offers := []store.Offer{
		{Marketplace: "aws", Name: "Acme Contracts", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now},
		{Marketplace: "aws", Name: "Acme Legacy", MarketplaceID: "prod-legacy", IdentityModel: "legacy", CreatedAt: now, UpdatedAt: now},
	}
	if err := st.TestingDB(t).Create(&offers).Error; err != nil {
		t.Fatal(err)
	}
	return &awsEnv{env: &env{t: t, st: st, h: h}, fake: fake, log: logs}
}

// register posts the form AWS's page posts: cross-site, no cookies.
func (e *awsEnv) register(form url.Values) resp {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/marketplace/aws/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://aws.amazon.com")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

var caBuyer = awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-1", ProductCode: "prod-ca"}

func (e *awsEnv) subscription(t *testing.T) store.Subscription {
	t.Helper()
	var subs []store.Subscription
	if err := e.st.TestingReadDB(t).Find(&subs).Error; err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 {
		t.Fatalf("%d subscriptions, want 1", len(subs))
	}
	return subs[0]
}

func TestAWSRegistrationAndOnboarding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		token := e.fake.IssueToken(caBuyer)
		r := e.register(url.Values{"x-amzn-marketplace-token": {token}, "x-amzn-marketplace-offer-type": {"free-trial"}})
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/marketplace/aws/onboarding?ticket=") {
			t.Fatalf("register: %d %s", r.code, r.hdr.Get("Location"))
		}
		loc := r.hdr.Get("Location")
		if strings.Contains(loc, token) || strings.Contains(e.log.String(), token) {
			t.Fatal("the registration token leaked into a URL or the log")
		}
		sub := e.subscription(t)
		if sub.State != "pending" || sub.AWSCustomerAccountID != caBuyer.CustomerAWSAccountID || sub.AWSLicenseArn != caBuyer.LicenseArn ||
			!sub.FreeTrial || sub.OfferID == nil || sub.CustomerID == nil {
			t.Fatalf("stored: %+v", sub)
		}
		var inbox []store.InboxMessage
		st.TestingReadDB(t).Find(&inbox)
		if len(inbox) != 1 || inbox[0].Status != store.InboxProcessed || inbox[0].SubscriptionID == nil || *inbox[0].SubscriptionID != sub.ID {
			t.Fatalf("inbox: %+v", inbox)
		}

		// Double submit / refresh: same token, same subscription, one inbox row.
		if r := e.register(url.Values{"x-amzn-marketplace-token": {token}}); r.code != http.StatusSeeOther {
			t.Fatalf("second submit: %d", r.code)
		}
		e.subscription(t)
		var n int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Count(&n)
		if n != 1 {
			t.Fatalf("%d inbox rows after a double submit", n)
		}

		// The onboarding page is a normal GET with the ticket.
		b := &browser{e: e.env}
		page := b.get(loc)
		if page.code != 200 || !strings.Contains(string(page.body), "Set up your Acme Contracts account") {
			t.Fatalf("onboarding page: %d %s", page.code, page.body)
		}
		ticket := strings.TrimPrefix(loc, "/marketplace/aws/onboarding?ticket=")
		ticket, _ = url.QueryUnescape(ticket)
		post := func(form url.Values) resp {
			req := httptest.NewRequest(http.MethodPost, "/marketplace/aws/onboarding", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
		}
		form := url.Values{"ticket": {ticket}, "company": {"Contoso Ltd"}, "name": {"Ada"}, "email": {"Ada@Contoso.example"}, "password": {"short"}}
		if r := post(form); r.code != 400 || !strings.Contains(string(r.body), "at least 10 characters") || !strings.Contains(string(r.body), "Contoso Ltd") {
			t.Fatalf("short password: %d %s", r.code, r.body)
		}
		form.Set("password", "a-good-password")
		r = post(form)
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/marketplace/aws/welcome?subscription=") {
			t.Fatalf("onboarding submit: %d %s", r.code, r.body)
		}
		// The new customer admin is signed in and sees the welcome page.
		var cookie string
		for _, c := range (&http.Response{Header: r.hdr}).Cookies() {
			if c.Name == api.SessionCookie {
				cookie = c.Name + "=" + c.Value
			}
		}
		admin := &browser{e: e.env, cookie: cookie}
		welcome := admin.get("/marketplace/aws/welcome")
		if welcome.code != 200 || !strings.Contains(string(welcome.body), "Welcome to Acme Contracts") || !strings.Contains(string(welcome.body), "Contoso Ltd") {
			t.Fatalf("welcome: %d %s", welcome.code, welcome.body)
		}
		var me struct{ User struct{ Role string } }
		admin.get("/api/auth/me").json(t, &me)
		if me.User.Role != "customer_admin" {
			t.Fatalf("role %q", me.User.Role)
		}
		var list listResp
		admin.get("/api/subscriptions").json(t, &list)
		if list.Total != 1 || list.Items[0].Customer.Name != "Contoso Ltd" {
			t.Fatalf("customer admin's list: %+v", list)
		}
		// The ticket is single-use.
		if r := post(form); r.code != http.StatusGone {
			t.Fatalf("reused ticket: %d", r.code)
		}
		if r := b.get(loc); r.code != http.StatusGone {
			t.Fatalf("reopened ticket: %d", r.code)
		}
		// Registering again later: the account exists.
		r = e.register(url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(caBuyer)}})
		again := b.get(r.hdr.Get("Location"))
		if !strings.Contains(string(again.body), "already has an account") {
			t.Fatalf("second registration: %s", again.body)
		}
	})
}

func TestAWSRegistrationAfterSubscribeSuccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		ctx := context.Background()
		legacy := awsfake.Identity{CustomerIdentifier: "X01EXAMPLEX", ProductCode: "prod-legacy"}
		// subscribe-success arrives first and creates the record.
		_, err := subscriptions.Apply(ctx, st, subscriptions.Ref{AWSProductCode: legacy.ProductCode, AWSCustomerIdentifier: legacy.CustomerIdentifier},
			lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: time.Now().UTC().Add(-time.Minute)}, subscriptions.Meta{Source: "aws_sqs"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := e.register(url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(legacy)}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("register: %d %s", r.code, r.body)
		}
		sub := e.subscription(t)
		if sub.State != "active" || sub.OfferID == nil {
			t.Fatalf("registration after subscribe-success: %+v", sub)
		}
		tl, _ := st.Timeline(ctx, sub.ID)
		if len(tl) != 2 || tl[1].Kind != "aws.registered" || tl[1].ToState != "active" {
			t.Fatalf("timeline: %+v", tl)
		}
	})
}

func TestAWSRegistrationProblems(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newAWSEnv(t, st)
	cases := []struct {
		name   string
		form   url.Values
		before func()
		status int
		says   string
	}{
		{"no token", url.Values{}, nil, 400, "opened from AWS Marketplace"},
		{"unknown token", url.Values{"x-amzn-marketplace-token": {"forged"}}, nil, 400, "could not verify your registration"},
		{"throttled then fine", url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(caBuyer)}},
			func() { e.fake.FailNext("ResolveCustomer", "ThrottlingException", 2) }, 303, ""},
		{"AWS down", url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(caBuyer)}},
			func() { e.fake.FailNext("ResolveCustomer", "InternalServiceErrorException", 3) }, 503, "not answering right now"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			r := e.register(c.form)
			if r.code != c.status || !strings.Contains(string(r.body), c.says) {
				t.Fatalf("%d %s", r.code, r.body)
			}
		})
	}
	var failed int64
	st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("status = ?", store.InboxFailed).Count(&failed)
	if failed != 2 {
		t.Fatalf("%d failed inbox rows, want 2 (every request with a token is kept; one without stores nothing)", failed)
	}
	if r := (&browser{e: e.env}).get("/marketplace/aws/onboarding?ticket=nope"); r.code != http.StatusGone || !strings.Contains(string(r.body), "expired") {
		t.Fatalf("unknown ticket: %d", r.code)
	}
}

func TestAWSRegistrationExpiredToken(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	issuedAt := time.Now().Add(-awsfake.TokenLifetime - time.Minute)
	clock := issuedAt
	fake := awsfake.NewMetering(func() time.Time { return clock })
	token := fake.IssueToken(caBuyer)
	clock = time.Now()
	fsrv := httptest.NewServer(fake)
	defer fsrv.Close()
	client, _ := awsmp.New(context.Background(), awsmp.Config{MeteringEndpoint: fsrv.URL, StaticKeys: true, MaxAttempts: 1})
	h, _ := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AWS: client})
	req := httptest.NewRequest(http.MethodPost, "/marketplace/aws/register", strings.NewReader("x-amzn-marketplace-token="+token))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "has expired") {
		t.Fatalf("expired token: %d %s", rec.Code, rec.Body)
	}
}

func TestInboxReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		ctx := context.Background()
		body := awsfake.SNSNotification("subscribe-success", awsfake.Identity{CustomerIdentifier: "XREPLAY", ProductCode: "prod-legacy"}, false, time.Now())
		retry := time.Now().Add(time.Hour)
		m, _, err := st.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: "sns:replay-1", Action: "subscribe-success", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		st.FinishInbox(ctx, m.ID, store.InboxFailed, "database was busy", nil, &retry)
		reg, _, _ := st.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: "aws_registration", DedupKey: "token:x", Body: "x-amzn-marketplace-token=x"})

		e.user("viewer@example.com", store.RoleViewer, nil)
		e.user("ops@example.com", store.RoleOperator, nil)
		path := fmt.Sprintf("/api/inbox/%d/replay", m.ID)
		e.login("viewer@example.com").do("POST", path, "", nil).errCode(t, 403, "forbidden")
		ops := e.login("ops@example.com")
		r := ops.do("POST", path, "", nil)
		var out struct{ Message struct{ Status string } }
		r.json(t, &out)
		if r.code != 200 || out.Message.Status != "processed" {
			t.Fatalf("replay: %d %s", r.code, r.body)
		}
		var sub store.Subscription
		if err := st.TestingReadDB(t).Where("aws_customer_identifier = ?", "XREPLAY").First(&sub).Error; err != nil || sub.State != "active" {
			t.Fatalf("after replay: %+v %v", sub, err)
		}
		// Replaying again changes nothing.
		ops.do("POST", path, "", nil)
		var again store.Subscription
		st.TestingReadDB(t).First(&again, sub.ID)
		if again.Version != sub.Version {
			t.Fatal("a second replay changed the subscription")
		}
		ops.do("POST", fmt.Sprintf("/api/inbox/%d/replay", reg.ID), "", nil).errCode(t, 409, "conflict")
		ops.do("POST", "/api/inbox/999999/replay", "", nil).errCode(t, 404, "not_found")
		var audits int64
		st.TestingReadDB(t).Model(&store.AuditEntry{}).Where("action = ?", "inbox.replayed").Count(&audits)
		if audits != 2 {
			t.Fatalf("%d audit entries", audits)
		}
	})
}
