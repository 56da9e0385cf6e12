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
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// testClock is one clock for Marketgate and the simulated AWS, safe to read
// from the fakes' server goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// identityEnv is the server with the real AWS SDK clients on the simulated
// Metering and Entitlement services, the SQS message processor, the meter
// and an API key for the seller's app.
type identityEnv struct {
	*awsEnv
	clock *testClock
	ents  *awsfake.Entitlements
	proc  *awsmp.Processor
	meter *metering.Meter
	app   *browser
	hdr   map[string]string
	admin *browser
}

func newIdentityEnv(t *testing.T, st *store.Store) *identityEnv {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 6, 2, 9, 20, 0, 0, time.UTC)}
	st.Now = clock.Now
	mfake := awsfake.NewMetering(clock.Now)
	efake := awsfake.NewEntitlements()
	msrv, esrv := httptest.NewServer(mfake), httptest.NewServer(efake)
	t.Cleanup(msrv.Close)
	t.Cleanup(esrv.Close)
	client, err := awsmp.New(context.Background(), awsmp.Config{MeteringEndpoint: msrv.URL, EntitlementEndpoint: esrv.URL, StaticKeys: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	proc := &awsmp.Processor{Store: st, Log: log, AWS: client}
	m := &metering.Meter{Store: st, Log: log, Owner: "test", AWS: client}
	h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: log, AWS: client, AWSEvents: proc, Meter: m, Now: clock.Now, Info: api.Info{BaseURL: "http://portal.test"}})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	plan := func(id, dims string, seats bool) store.Plan {
		return store.Plan{PlanID: id, Name: id, SeatBased: seats, Dimensions: dims, ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now}
	}
	offers := []store.Offer{
		{Marketplace: "aws", Name: "Legacy SaaS", MarketplaceID: "prodlegacysaas", IdentityModel: "legacy", CreatedAt: now, UpdatedAt: now,
			Plans: []store.Plan{plan("payg", `[{"key":"api_calls"}]`, false)}},
		{Marketplace: "aws", Name: "Legacy Contracts", MarketplaceID: "prodlegacycontract", IdentityModel: "legacy", Contract: true, CreatedAt: now, UpdatedAt: now,
			Plans: []store.Plan{plan("users", `[{"key":"users"},{"key":"api_calls","metered":true}]`, true)}},
		{Marketplace: "aws", Name: "CA SaaS", MarketplaceID: "prodcasaas", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now,
			Plans: []store.Plan{plan("payg", `[{"key":"api_calls"}]`, false)}},
	}
	if err := st.TestingDB(t).Create(&offers).Error; err != nil {
		t.Fatal(err)
	}
	e := &identityEnv{awsEnv: &awsEnv{env: &env{t: t, st: st, h: h}, fake: mfake, log: &strings.Builder{}}, clock: clock, ents: efake, proc: proc, meter: m}
	key, prefix := auth.NewAPIKey()
	if err := st.CreateAPIKey(context.Background(), &store.APIKey{Name: "app", Prefix: prefix}, key); err != nil {
		t.Fatal(err)
	}
	e.app, e.hdr = &browser{e: e.env}, map[string]string{"Authorization": "Bearer " + key, "Sec-Fetch-Site": ""}
	e.user("admin@example.com", store.RoleAdmin, nil)
	e.admin = e.login("admin@example.com")
	return e
}

// subscribeSuccess delivers subscribe-success through the queue consumer,
// as AWS's SNS topic does (legacy identity: customer-identifier and
// product-code, no account id, no license).
func (e *identityEnv) subscribeSuccess(t *testing.T, id awsfake.Identity) {
	t.Helper()
	body := awsfake.SNSNotification("subscribe-success", id, false, e.clock.Now())
	if err := e.proc.Receive(context.Background(), body, "sqs-"+id.CustomerIdentifier); err != nil {
		t.Fatal(err)
	}
	var m store.InboxMessage
	e.st.TestingReadDB(t).Where("source = ?", awsmp.SourceSQS).Order("id DESC").First(&m)
	if m.Status != store.InboxProcessed {
		t.Fatalf("subscribe-success: %s %s", m.Status, m.Error)
	}
}

func (e *identityEnv) registerToken(t *testing.T, id awsfake.Identity) {
	t.Helper()
	if r := e.register(url.Values{"x-amzn-marketplace-token": {e.fake.IssueToken(id)}}); r.code != http.StatusSeeOther {
		t.Fatalf("register: %d %s", r.code, r.body)
	}
}

type accessAnswer struct {
	Allowed      bool
	Reason       string
	Subscription *struct {
		ID    uint
		State string
	}
}

func (e *identityEnv) access(t *testing.T, query string) accessAnswer {
	t.Helper()
	var out accessAnswer
	r := e.app.do(http.MethodGet, "/api/v1/access?"+query, "", e.hdr)
	r.json(t, &out)
	if r.code != 200 || out.Reason == "" {
		t.Fatalf("access %s: %d %s", query, r.code, r.body)
	}
	return out
}

type usageAnswer struct {
	Results []metering.Result `json:"results"`
}

func (e *identityEnv) usage(t *testing.T, customer string, qty int) metering.Result {
	t.Helper()
	ts := e.clock.Now().Add(-time.Minute).Format(time.RFC3339)
	var out usageAnswer
	r := e.app.do(http.MethodPost, "/api/v1/usage", fmt.Sprintf(`{"events":[{"id":"u-%s-%d","customer":%q,"dimension":"api_calls","quantity":%d,"timestamp":%q}]}`,
		customer, qty, customer, qty, ts), e.hdr)
	r.json(t, &out)
	if r.code != 200 || len(out.Results) != 1 {
		t.Fatalf("usage: %d %s", r.code, r.body)
	}
	return out.Results[0]
}

type detailAnswer struct {
	Subscription struct {
		ID                    uint
		State                 string
		AWSCustomerAccountID  string `json:"aws_customer_account_id"`
		AWSLicenseArn         string `json:"aws_license_arn"`
		AWSCustomerIdentifier string `json:"aws_customer_identifier"`
		AWSProductCode        string `json:"aws_product_code"`
		Plan                  *struct {
			PlanID string `json:"plan_id"`
		}
	}
	Timeline []struct{ Summary string }
	Identity *awsmp.MeteringIdentity `json:"aws_metering_identity"`
}

func (e *identityEnv) detail(t *testing.T, id uint) detailAnswer {
	t.Helper()
	var d detailAnswer
	e.admin.get(fmt.Sprintf("/api/subscriptions/%d", id)).json(t, &d)
	return d
}

// TestLegacyBuyerIsOneSubscription: for products integrated before the
// concurrent-agreement model, ResolveCustomer answers the CustomerIdentifier
// AND CustomerAWSAccountId, LicenseArn and ProductCode (reference §1, §3),
// and SNS subscribe-success names the customer-identifier only (§6.3).
// Whichever comes first, one purchase is one subscription carrying every
// identity; every reference reaches it; and usage goes to AWS under the
// product's one identity model, since AWS says NEVER meter the same
// customer in the same hour under both models (records with ProductCode and
// records with LicenseArn for one customer and hour are billed twice).
func TestLegacyBuyerIsOneSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newIdentityEnv(t, st)
		type purchase struct {
			name     string
			id       awsfake.Identity
			contract bool
			regFirst bool
			subID    uint
		}
		var buys []*purchase
		n := 0
		for _, product := range []struct {
			code     string
			contract bool
		}{{"prodlegacysaas", false}, {"prodlegacycontract", true}} {
			for _, regFirst := range []bool{true, false} {
				n++
				acct := fmt.Sprintf("1111222200%02d", n)
				name := product.code + map[bool]string{true: "/registration first", false: "/subscribe-success first"}[regFirst]
				buys = append(buys, &purchase{name: name, contract: product.contract, regFirst: regFirst, id: awsfake.Identity{
					CustomerIdentifier: fmt.Sprintf("XLEGACY%02d", n), ProductCode: product.code, CustomerAWSAccountID: acct,
					LicenseArn: "arn:aws:license-manager::" + acct + ":license:l-" + fmt.Sprint(n)}})
			}
		}
		for _, b := range buys {
			if b.contract {
				e.ents.Set(b.id, awsfake.Entitlement{Dimension: "users", Value: 10, Expiration: e.clock.Now().AddDate(1, 0, 0)})
			}
			if b.regFirst {
				e.registerToken(t, b.id)
				e.clock.Add(time.Second)
				e.subscribeSuccess(t, b.id)
			} else {
				e.subscribeSuccess(t, b.id)
				e.clock.Add(time.Second)
				e.registerToken(t, b.id)
			}
			e.clock.Add(time.Second)
		}
		var total int64
		st.TestingReadDB(t).Model(&store.Subscription{}).Count(&total)
		if total != int64(len(buys)) {
			t.Fatalf("%d subscriptions for %d purchases", total, len(buys))
		}
		for _, b := range buys {
			t.Run(b.name, func(t *testing.T) {
				// Every reference the seller's app may hold answers the same.
				byIdent := e.access(t, "customer="+b.id.CustomerIdentifier)
				if !byIdent.Allowed || byIdent.Subscription == nil || byIdent.Subscription.State != "active" {
					t.Fatalf("by customer identifier: %+v", byIdent)
				}
				b.subID = byIdent.Subscription.ID
				for _, ref := range []string{b.id.CustomerAWSAccountID, url.QueryEscape(b.id.LicenseArn)} {
					a := e.access(t, "customer="+ref)
					if !a.Allowed || a.Subscription == nil || a.Subscription.ID != b.subID {
						t.Fatalf("by %s: %+v, want subscription %d allowed", ref, a, b.subID)
					}
				}
				d := e.detail(t, b.subID)
				s := d.Subscription
				if s.AWSCustomerIdentifier != b.id.CustomerIdentifier || s.AWSProductCode != b.id.ProductCode ||
					s.AWSCustomerAccountID != b.id.CustomerAWSAccountID || s.AWSLicenseArn != b.id.LicenseArn {
					t.Fatalf("identities on the subscription: %+v", s)
				}
				// The metering identity is visible and is the offer's model.
				if d.Identity == nil || d.Identity.Model != awsmp.ModelLegacy || d.Identity.Source != "offer" ||
					d.Identity.CustomerIdentifier != b.id.CustomerIdentifier || d.Identity.LicenseArn != "" || d.Identity.Missing != "" {
					t.Fatalf("metering identity: %+v", d.Identity)
				}
				if !b.regFirst {
					found := false
					for _, tl := range d.Timeline {
						found = found || strings.Contains(tl.Summary, "identities added: customer_account_id "+b.id.CustomerAWSAccountID)
					}
					if !found {
						t.Fatalf("the merge is not on the timeline: %+v", d.Timeline)
					}
				}
				if s.Plan == nil || s.Plan.PlanID != map[bool]string{true: "users", false: "payg"}[b.contract] {
					t.Fatalf("plan: %+v", s.Plan)
				}
			})
		}

		// Usage reported by account id and by customer identifier counts on
		// the one subscription.
		for _, b := range buys {
			r1, r2 := e.usage(t, b.id.CustomerAWSAccountID, 5), e.usage(t, b.id.CustomerIdentifier, 7)
			if r1.Status != "accepted" || r2.Status != "accepted" || r1.SubscriptionID == nil || r2.SubscriptionID == nil ||
				*r1.SubscriptionID != b.subID || *r2.SubscriptionID != b.subID {
				t.Fatalf("%s usage: %+v %+v", b.name, r1, r2)
			}
		}
		e.clock.Add(70 * time.Minute)
		ctx := context.Background()
		if _, err := e.meter.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.meter.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		// What AWS received: one record per customer and hour, under the
		// legacy identity only; nothing under the license.
		hour := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
		billed := map[string]int32{}
		for _, r := range e.fake.Metered() {
			if strings.HasPrefix(r.Key, "ca:") {
				t.Fatalf("a legacy product's buyer was metered under the license too (billed twice by AWS): %+v", r)
			}
			if r.Dimension == "api_calls" && r.Hour.Equal(hour) {
				billed[r.Key] += r.Quantity
			}
		}
		for _, b := range buys {
			if got := billed["legacy:"+b.id.ProductCode+":"+b.id.CustomerIdentifier]; got != 12 {
				t.Fatalf("%s: AWS billed %d api_calls, want 12 (%+v)", b.name, got, billed)
			}
		}
		var recs []store.MeteringRecord
		st.TestingReadDB(t).Where("status <> ?", store.RecordAccepted).Find(&recs)
		if len(recs) != 0 {
			t.Fatalf("records not accepted: %+v", recs)
		}
	})
}

// TestFreshPayAsYouGoSubscriptionIsMetered: an AWS SaaS subscription that
// is not a contract has no plan at AWS; metering may begin with
// subscribe-success (reference §6.3), so the offer's dimensions apply from
// registration on, with no seeded data and no database edit: usage is
// accepted, its hour sealed and sent.
func TestFreshPayAsYouGoSubscriptionIsMetered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newIdentityEnv(t, st)
		ctx := context.Background()
		ca := awsfake.Identity{CustomerAWSAccountID: "444455556666", LicenseArn: "arn:aws:license-manager::444455556666:license:l-payg", ProductCode: "prodcasaas"}
		e.registerToken(t, ca)
		e.clock.Add(time.Second)
		if err := e.proc.Receive(ctx, awsfake.LicenseEvent("License Updated", ca, "agmt-payg", e.clock.Now()), "sqs-lu"); err != nil {
			t.Fatal(err)
		}
		// A legacy buyer known only from subscribe-success (never registered).
		legacy := awsfake.Identity{CustomerIdentifier: "XSNSONLY", ProductCode: "prodlegacysaas"}
		e.fake.Subscribe(legacy)
		e.subscribeSuccess(t, legacy)
		e.clock.Add(time.Minute)
		for _, ref := range []string{ca.CustomerAWSAccountID, legacy.CustomerIdentifier} {
			if r := e.usage(t, ref, 9); r.Status != "accepted" {
				t.Fatalf("usage for %s: %+v", ref, r)
			}
		}
		var caSub store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn = ?", ca.LicenseArn).First(&caSub)
		d := e.detail(t, caSub.ID)
		if d.Subscription.State != "active" || d.Subscription.Plan == nil || d.Subscription.Plan.PlanID != "payg" ||
			d.Identity == nil || d.Identity.Model != awsmp.ModelConcurrentAgreements || d.Identity.LicenseArn != ca.LicenseArn {
			t.Fatalf("pay-as-you-go subscription: %+v %+v", d.Subscription, d.Identity)
		}
		e.clock.Add(70 * time.Minute)
		if _, err := e.meter.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.meter.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		got := map[string]int32{}
		for _, r := range e.fake.Metered() {
			got[r.Key] += r.Quantity
		}
		if got["ca:"+ca.CustomerAWSAccountID+":"+ca.LicenseArn] != 9 || got["legacy:prodlegacysaas:XSNSONLY"] != 9 {
			t.Fatalf("AWS billed %+v", got)
		}
		var recs []store.MeteringRecord
		st.TestingReadDB(t).Order("id").Find(&recs)
		if len(recs) != 2 || recs[0].Status != store.RecordAccepted || recs[1].Status != store.RecordAccepted {
			t.Fatalf("records: %+v", recs)
		}
	})
}

// TestAccessByAccountIDAndDimension: the README promises that an AWS
// account id works as the customer reference, and that the entitlement rule
// of a dimension is for contract customers only (GetEntitlements serves
// contract products).
func TestAccessByAccountIDAndDimension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newIdentityEnv(t, st)
		legacy := awsfake.Identity{CustomerIdentifier: "XPAYG", ProductCode: "prodlegacysaas", CustomerAWSAccountID: "777788889999",
			LicenseArn: "arn:aws:license-manager::777788889999:license:l-payg"}
		e.registerToken(t, legacy)
		e.subscribeSuccess(t, legacy)
		contract := awsfake.Identity{CustomerIdentifier: "XCONTRACT", ProductCode: "prodlegacycontract", CustomerAWSAccountID: "777788880000",
			LicenseArn: "arn:aws:license-manager::777788880000:license:l-c"}
		e.ents.Set(contract, awsfake.Entitlement{Dimension: "users", Value: 10, Expiration: e.clock.Now().AddDate(1, 0, 0)})
		e.registerToken(t, contract)
		e.subscribeSuccess(t, contract)

		// Stored before identities were merged: the account id only on the
		// customer row, the subscription keyed by the customer identifier.
		now := e.clock.Now()
		cust := store.Customer{Name: "Old Legacy", AWSAccountID: "123412341234", CreatedAt: now, UpdatedAt: now}
		st.TestingDB(t).Create(&cust)
		var offer store.Offer
		st.TestingReadDB(t).Preload("Plans").Where("marketplace_id = ?", "prodlegacysaas").First(&offer)
		old := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, CustomerID: &cust.ID, AWSCustomerIdentifier: "XOLD",
			AWSProductCode: "prodlegacysaas", OfferID: &offer.ID, PlanID: &offer.Plans[0].ID, Version: 1, CreatedAt: now, UpdatedAt: now}
		st.TestingDB(t).Create(&old)
		// Usage names it by that account id too.
		if r := e.usage(t, "123412341234", 3); r.Status != "accepted" || r.SubscriptionID == nil || *r.SubscriptionID != old.ID {
			t.Fatalf("usage by the account id on the customer row: %+v", r)
		}

		cases := []struct {
			name, query string
			allowed     bool
		}{
			{"legacy customer by account id on the customer row", "customer=123412341234", true},
			{"legacy customer by customer identifier", "customer=XOLD", true},
			{"pay-as-you-go customer, a dimension of its plan", "customer=XPAYG&dimension=api_calls", true},
			{"pay-as-you-go customer by account id, a dimension with a quantity", "customer=777788889999&dimension=api_calls&quantity=5", true},
			{"pay-as-you-go customer, another dimension: no entitlement applies", "customer=XPAYG&dimension=reports", true},
			{"contract customer within the entitlement", "customer=XCONTRACT&dimension=users&quantity=10", true},
			{"contract customer beyond the entitlement", "customer=777788880000&dimension=users&quantity=11", false},
			{"contract customer without an entitlement for it", "customer=XCONTRACT&dimension=admins", false},
			{"contract with consumption: a dimension metered on top", "customer=XCONTRACT&dimension=api_calls", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if a := e.access(t, c.query); a.Allowed != c.allowed {
					t.Fatalf("%+v, want allowed=%v", a, c.allowed)
				}
			})
		}
	})
}
