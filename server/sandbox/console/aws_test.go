package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/console"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// sandboxEnv is `serve --sandbox` in a test (the console mounted on the API): the simulated AWS served by
// the server itself, the real SDK clients pointed at it, the real poller
// reading its queue.
type sandboxEnv struct {
	t      *testing.T
	st     *store.Store
	h      http.Handler
	sb     *console.Console
	apiKey string
	offers map[string]store.Offer
	meter  *metering.Meter
	proc   *awsmp.Processor
}

func newSandboxEnv(t *testing.T, st *store.Store) *sandboxEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	sb := &console.Console{Store: st, AWSMetering: awsfake.NewMetering(nil), AWSSQS: awsfake.NewSQS(nil), AWSEntitlements: awsfake.NewEntitlements(),
		AWSAgreements: awsfake.NewAgreementService(), AWSQueueURL: srv.URL + "/sandbox/aws/sqs/000000000000/notifications"}
	sb.AWSSQS.CreateQueue(sb.AWSQueueURL)
	client, err := awsmp.New(ctx, awsmp.Config{MeteringEndpoint: srv.URL + "/sandbox/aws/metering", SQSEndpoint: srv.URL + "/sandbox/aws/sqs",
		EntitlementEndpoint: srv.URL + "/sandbox/aws/entitlement", AgreementEndpoint: srv.URL + "/sandbox/aws/agreement", StaticKeys: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	proc := &awsmp.Processor{Store: st, Log: log, AWS: client}
	meter := &metering.Meter{Store: st, Log: log, Owner: "sandbox-test", AWS: client}
	h, err = api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: log, AWS: client, AWSEvents: proc, AWSAgreements: proc, Meter: meter, Sandbox: sb.Mount, Info: api.Info{BaseURL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	poller := &awsmp.Poller{SQS: client.SQS, QueueURL: sb.AWSQueueURL, Processor: proc, Log: log, Wait: 1}
	done := make(chan struct{})
	go func() { poller.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })

	now := time.Now().UTC()
	seat := func(id, name, dims string) store.Plan {
		return store.Plan{PlanID: id, Name: name, SeatBased: true, Dimensions: dims, ActivationPolicy: store.ActivateAutomatic, CreatedAt: now, UpdatedAt: now}
	}
	payg := store.Plan{PlanID: "standard", Name: "Pay as you go", Dimensions: `[{"key":"api_calls","name":"API calls","unit":"call"}]`,
		ActivationPolicy: store.ActivateAutomatic, CreatedAt: now, UpdatedAt: now}
	tiers := []store.Plan{seat("basic_users", "Basic", `[{"key":"basic_users","name":"Basic users","unit":"user"}]`),
		seat("premium_users", "Premium", `[{"key":"premium_users","name":"Premium users","unit":"user"},{"key":"api_calls","name":"API calls over quota","unit":"call","metered":true}]`)}
	offers := map[string]store.Offer{
		"legacy-saas":     {Marketplace: "aws", Name: "Legacy SaaS", MarketplaceID: "legacy4saas", IdentityModel: "legacy", Plans: []store.Plan{payg}},
		"legacy-contract": {Marketplace: "aws", Name: "Legacy contract", MarketplaceID: "legacy4contract", IdentityModel: "legacy", Contract: true, Plans: tiers},
		"ca-saas":         {Marketplace: "aws", Name: "CA SaaS", MarketplaceID: "ca4saas", IdentityModel: "concurrent_agreements", Plans: []store.Plan{payg}},
		"ca-contract":     {Marketplace: "aws", Name: "CA contract", MarketplaceID: "ca4contract", IdentityModel: "concurrent_agreements", Contract: true, Plans: tiers},
	}
	for k, o := range offers {
		o.CreatedAt, o.UpdatedAt = now, now
		for i := range o.Plans {
			o.Plans[i].ID = 0
		}
		if err := st.TestingDB(t).Create(&o).Error; err != nil {
			t.Fatal(err)
		}
		offers[k] = o
	}
	key, prefix := auth.NewAPIKey()
	if err := st.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: prefix}, key); err != nil {
		t.Fatal(err)
	}
	return &sandboxEnv{t: t, st: st, h: h, sb: sb, apiKey: key, offers: offers, meter: meter, proc: proc}
}

func (e *sandboxEnv) post(path string, form url.Values, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

var tokenField = regexp.MustCompile(`name="x-amzn-marketplace-token" value="([^"]+)"`)

// buy acts as the buyer: subscribe on the sandbox page, then the browser's
// registration POST with the token, as AWS's page sends it. It waits for
// AWS's notifications to be applied and returns the subscription.
func (e *sandboxEnv) buy(offer, plan string) store.Subscription {
	e.t.Helper()
	var before int64
	e.st.TestingReadDB(e.t).Model(&store.Subscription{}).Count(&before)
	rec := e.post("/sandbox/aws/subscribe", url.Values{"offer": {itoa(e.offers[offer].ID)}, "plan": {plan}, "units": {"10"}, "trial": {"false"}}, nil)
	m := tokenField.FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		e.t.Fatalf("subscribe: %d %.300s", rec.Code, rec.Body.String())
	}
	// AWS's confirmation is applied first here: a registration racing it
	// for a new customer can fail on the subscription's unique key and the
	// buyer is asked to retry (noticed, left to the registration's owner).
	e.settle()
	reg := e.post("/marketplace/aws/register", url.Values{"x-amzn-marketplace-token": {m[1]}},
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://aws.amazon.com"})
	if reg.Code != http.StatusSeeOther {
		e.t.Fatalf("registration: %d %.300s", reg.Code, reg.Body.String())
	}
	e.settle()
	var subs []store.Subscription
	e.st.TestingReadDB(e.t).Preload("Plan").Where("aws_product_code = ?", e.offers[offer].MarketplaceID).Order("id DESC").Find(&subs)
	var after int64
	e.st.TestingReadDB(e.t).Model(&store.Subscription{}).Count(&after)
	if len(subs) == 0 || after != before+1 {
		e.t.Fatalf("one purchase made %d subscriptions", after-before)
	}
	return subs[0]
}

func (e *sandboxEnv) act(sub store.Subscription, action string) {
	e.t.Helper()
	rec := e.post("/sandbox/aws/notify", url.Values{"subscription": {itoa(sub.ID)}, "action": {action}}, nil)
	if rec.Code != http.StatusSeeOther {
		e.t.Fatalf("%s: %d %.300s", action, rec.Code, rec.Body.String())
	}
	e.settle()
}

// settle waits until the queue is empty and every stored message applied.
func (e *sandboxEnv) settle() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var open int64
		e.st.TestingReadDB(e.t).Model(&store.InboxMessage{}).Where("source = 'aws_sqs' AND status IN ?", []string{store.InboxReceived, store.InboxFailed}).Count(&open)
		if e.sb.AWSSQS.Len(e.sb.AWSQueueURL) == 0 && open == 0 {
			return
		}
		if time.Now().After(deadline) {
			var failed []store.InboxMessage
			e.st.TestingReadDB(e.t).Where("status = ?", store.InboxFailed).Find(&failed)
			e.t.Fatalf("the queue did not settle: %d queued, %d open (%+v)", e.sb.AWSSQS.Len(e.sb.AWSQueueURL), open, failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState waits for a state (the cancellation completes later).
func (e *sandboxEnv) waitState(id uint, state string) store.Subscription {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s store.Subscription
		e.st.TestingReadDB(e.t).Preload("Plan").First(&s, id)
		if s.State == state {
			e.settle()
			e.st.TestingReadDB(e.t).Preload("Plan").First(&s, id)
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("subscription %d is %s, want %s", id, s.State, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *sandboxEnv) access(customer string) (allowed bool, reason string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/access?customer="+url.QueryEscape(customer), nil)
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var out struct {
		Allowed bool
		Reason  string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		e.t.Fatalf("access: %d %s", rec.Code, rec.Body.String())
	}
	return out.Allowed, out.Reason
}

func (e *sandboxEnv) timeline(id uint) []store.TimelineEvent {
	var tl []store.TimelineEvent
	e.st.TestingReadDB(e.t).Where("subscription_id = ?", id).Order("id").Find(&tl)
	return tl
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }

// TestSandboxCancelledContractStaysEnded is issue 13's defect 10 walked
// in /sandbox/aws: buy a contract, raise it, cancel it. AWS completes a
// cancellation with unsubscribe-success (legacy) or Purchase Agreement
// Ended CANCELLED (concurrent agreements), after which a contract has no
// current entitlement (reference §5: "a past date, or no entitlement for a
// dimension, means not entitled"; §6.3: unsubscribe-success = "revoke
// access"). The subscription ends and stays ended, and the access check
// refuses the customer.
func TestSandboxCancelledContractStaysEnded(t *testing.T) {
	old := console.CancelDelay
	console.CancelDelay = 100 * time.Millisecond
	t.Cleanup(func() { console.CancelDelay = old })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSandboxEnv(t, st)
		for _, offer := range []string{"ca-contract", "legacy-contract"} {
			t.Run(offer, func(t *testing.T) {
				e.t = t
				sub := e.buy(offer, "basic_users")
				if sub.State != "active" || sub.Quantity != 10 {
					t.Fatalf("bought: %s, %d seats", sub.State, sub.Quantity)
				}
				e.act(sub, "upgrade")
				e.st.TestingReadDB(e.t).First(&sub, sub.ID)
				if sub.Quantity != 20 {
					t.Fatalf("raised to %d seats, want 20", sub.Quantity)
				}
				e.act(sub, "cancel")
				sub = e.waitState(sub.ID, "ended")
				for _, te := range e.timeline(sub.ID) {
					if te.FromState == "ended" && te.ToState != "ended" || te.FromState == "unsubscribe_pending" && te.ToState == "active" {
						t.Fatalf("moved back after the cancellation: %s → %s (%s)", te.FromState, te.ToState, te.Summary)
					}
				}
				for _, ref := range []string{sub.AWSCustomerIdentifier, sub.AWSCustomerAccountID, sub.AWSLicenseArn} {
					if ref == "" {
						continue
					}
					if allowed, reason := e.access(ref); allowed {
						t.Fatalf("access by %s after the cancellation: allowed (%s)", ref, reason)
					}
				}
				// What AWS answers now: the grant, expired.
				var ents []store.Entitlement
				e.st.TestingReadDB(e.t).Where("subscription_id = ?", sub.ID).Find(&ents)
				for _, g := range ents {
					if g.Current(time.Now()) {
						t.Fatalf("a current grant after the cancellation: %+v", g)
					}
				}
			})
		}
	})
}

// TestSandboxWalksEveryAWSCase: what a newcomer can do in /sandbox/aws, and
// what the simulated AWS answers, as AWS documents it. Both identity models
// (reference §1): ResolveCustomer answers a concurrent-agreements buyer with
// an account id and a license and no CustomerIdentifier, a legacy buyer with
// all four (§3); legacy buyers' notifications are SNS messages, concurrent-agreement buyers' EventBridge
// events (§6). Both product types: GetEntitlements answers contract
// dimensions only (§5; a tier's metered dimensions are consumption), a
// SaaS subscription has none.
func TestSandboxWalksEveryAWSCase(t *testing.T) {
	old := console.CancelDelay
	// Long enough to see the pending cancellation before it completes
	// under the race detector on a busy machine (100 ms was not).
	console.CancelDelay = time.Second
	t.Cleanup(func() { console.CancelDelay = old })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSandboxEnv(t, st)
		shapes := func(sub store.Subscription) map[string]bool {
			var msgs []store.InboxMessage
			e.st.TestingReadDB(e.t).Where("subscription_id = ? AND source = 'aws_sqs'", sub.ID).Find(&msgs)
			out := map[string]bool{}
			for _, m := range msgs {
				n, err := awsmp.ParseNotification(m.Body, "x")
				if err != nil {
					t.Fatalf("stored message unreadable: %v", err)
				}
				out[n.Shape+":"+n.Action] = true
			}
			return out
		}
		grants := func(sub store.Subscription) map[string]string {
			var ents []store.Entitlement
			e.st.TestingReadDB(e.t).Where("subscription_id = ?", sub.ID).Find(&ents)
			out := map[string]string{}
			for _, g := range ents {
				out[g.Dimension] = g.Value
			}
			return out
		}
		cases := []struct {
			offer, plan string
			ca          bool // a concurrent-agreements buyer
			grants      map[string]string
			messages    []string
		}{
			{"legacy-saas", "", false, map[string]string{}, []string{"sns:subscribe-success"}},
			{"ca-saas", "", true, map[string]string{}, []string{"eventbridge:License Updated"}},
			{"legacy-contract", "basic_users", false, map[string]string{"basic_users": "10"}, []string{"sns:subscribe-success", "sns:entitlement-updated"}},
			{"ca-contract", "basic_users", true, map[string]string{"basic_users": "10"}, []string{"eventbridge:License Updated"}},
			{"ca-contract", "premium_users", true, map[string]string{"premium_users": "10"}, []string{"eventbridge:License Updated"}},
			{"legacy-contract", "premium_users", false, map[string]string{"premium_users": "10"}, []string{"sns:entitlement-updated"}},
		}
		for _, c := range cases {
			t.Run(c.offer+"/"+c.plan, func(t *testing.T) {
				e.t = t
				sub := e.buy(c.offer, c.plan)
				if sub.State != "active" {
					t.Fatalf("bought: %s", sub.State)
				}
				// Every buyer has an account and a license; a legacy buyer the
				// CustomerIdentifier too (§3: "Legacy products also return
				// CustomerIdentifier"), a concurrent-agreements buyer none.
				if sub.AWSLicenseArn == "" || sub.AWSCustomerAccountID == "" || sub.AWSProductCode == "" || c.ca == (sub.AWSCustomerIdentifier != "") {
					t.Fatalf("identity: account %q license %q customer identifier %q", sub.AWSCustomerAccountID, sub.AWSLicenseArn, sub.AWSCustomerIdentifier)
				}
				got := grants(sub)
				if len(got) != len(c.grants) {
					t.Fatalf("entitlements %v, want %v", got, c.grants)
				}
				for k, v := range c.grants {
					if got[k] != v {
						t.Fatalf("entitlements %v, want %v", got, c.grants)
					}
				}
				seen := shapes(sub)
				for _, m := range c.messages {
					if !seen[m] {
						t.Fatalf("messages %v, want %s among them", seen, m)
					}
				}
				if strings.Contains(c.offer, "contract") {
					// expire, then renew: ended by the expiry, active again by the renewal.
					e.act(sub, "expire")
					if s := e.waitState(sub.ID, "ended"); s.State != "ended" {
						t.Fatal(s.State)
					}
					if c.ca {
						// EventBridge times are whole seconds, and on equal
						// times the end wins (lifecycle ordering rule): a
						// renewal comes at least a second after the expiry.
						time.Sleep(1100 * time.Millisecond)
					}
					e.act(sub, "renew")
					s := e.waitState(sub.ID, "active")
					if s.TermEnd == nil || !s.TermEnd.After(time.Now().AddDate(0, 11, 0)) || s.Quantity != 10 {
						t.Fatalf("renewed: term end %v, %d seats", s.TermEnd, s.Quantity)
					}
				}
				if !c.ca {
					e.act(sub, "subscribe-fail")
					e.waitState(sub.ID, "failed")
					e.act(sub, "subscribe-success")
					e.waitState(sub.ID, "active")
				}
				e.act(sub, "cancel")
				e.waitState(sub.ID, "unsubscribe_pending")
				e.waitState(sub.ID, "ended")
			})
		}
		// The page lists every offer with its identity model and kind.
		req := httptest.NewRequest(http.MethodGet, "/sandbox/aws", nil)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		for _, want := range []string{"legacy identity (SNS notifications)", "concurrent agreements (EventBridge events)",
			"SaaS subscription", "contract with consumption", `name="plan"`, "Renew the contract"} {
			if !strings.Contains(rec.Body.String(), want) {
				t.Fatalf("the sandbox page lacks %q", want)
			}
		}
	})
}

// TestSandboxLegacyBuyerIsOneSubscription walks a legacy product's purchase
// in /sandbox/aws (a SaaS subscription and a contract with consumption).
// AWS's rules it checks (reference):
//   - §3: for a legacy product, ResolveCustomer answers CustomerAWSAccountId,
//     LicenseArn and ProductCode, and "Legacy products also return
//     CustomerIdentifier"; §6.3/§6.4: its SNS messages name only
//     customer-identifier and product-code. One purchase is one subscription
//     carrying all four identities, whichever message named it.
//   - §1: "NEVER meter the same customer in the same hour under both
//     models": a legacy product is metered by CustomerIdentifier +
//     ProductCode, so the simulated AWS receives no record under the license.
//   - the access check answers the same by customer identifier and by
//     account id; after unsubscribe-success ("revoke access") both refuse,
//     and the contract stays ended.
func TestSandboxLegacyBuyerIsOneSubscription(t *testing.T) {
	old := console.CancelDelay
	// Long enough for the final usage to be sent after unsubscribe-pending,
	// before the cancellation completes (AWS: about an hour).
	console.CancelDelay = 1500 * time.Millisecond
	t.Cleanup(func() { console.CancelDelay = old })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newSandboxEnv(t, st)
		for _, c := range []struct {
			offer, plan string
			dimension   string // asked of the access check: a dimension of the plan
			grants      map[string]string
		}{
			{"legacy-saas", "", "api_calls", map[string]string{}},
			{"legacy-contract", "premium_users", "premium_users", map[string]string{"premium_users": "10"}},
		} {
			t.Run(c.offer, func(t *testing.T) {
				e.t = t
				sub := e.buy(c.offer, c.plan) // fails unless the purchase made exactly one subscription
				if sub.State != "active" || sub.AWSCustomerIdentifier == "" || sub.AWSCustomerAccountID == "" || sub.AWSLicenseArn == "" ||
					sub.AWSProductCode != e.offers[c.offer].MarketplaceID {
					t.Fatalf("bought: %s, customer identifier %q, account %q, license %q, product %q", sub.State,
						sub.AWSCustomerIdentifier, sub.AWSCustomerAccountID, sub.AWSLicenseArn, sub.AWSProductCode)
				}
				var byLicense, byCustomer []store.Subscription
				st.TestingReadDB(t).Where("aws_customer_account_id = ? AND aws_license_arn = ?", sub.AWSCustomerAccountID, sub.AWSLicenseArn).Find(&byLicense)
				st.TestingReadDB(t).Where("aws_product_code = ? AND aws_customer_identifier = ?", sub.AWSProductCode, sub.AWSCustomerIdentifier).Find(&byCustomer)
				if len(byLicense) != 1 || len(byCustomer) != 1 || byLicense[0].ID != sub.ID || byCustomer[0].ID != sub.ID {
					t.Fatalf("by license %d subscriptions, by customer identifier %d; want both the one bought", len(byLicense), len(byCustomer))
				}
				// The messages were SNS only, on the subscription (and for a
				// contract the entitlement) topic; none names a license.
				var msgs []store.InboxMessage
				st.TestingReadDB(t).Where("subscription_id = ? AND source = 'aws_sqs'", sub.ID).Find(&msgs)
				if len(msgs) == 0 {
					t.Fatal("no notification reached the subscription")
				}
				for _, m := range msgs {
					n, err := awsmp.ParseNotification(m.Body, "x")
					if err != nil || n.Shape != "sns" || strings.Contains(m.Body, sub.AWSLicenseArn) {
						t.Fatalf("a legacy buyer's notification: %v %.200s", err, m.Body)
					}
				}
				var ents []store.Entitlement
				st.TestingReadDB(t).Where("subscription_id = ?", sub.ID).Find(&ents)
				got := map[string]string{}
				for _, g := range ents {
					got[g.Dimension] = g.Value
				}
				if len(got) != len(c.grants) || (len(c.grants) > 0 && got[c.plan] != c.grants[c.plan]) {
					t.Fatalf("entitlements %v, want %v (GetEntitlements by CUSTOMER_IDENTIFIER)", got, c.grants)
				}

				// The access check: the same answer by every reference.
				refs := []string{sub.AWSCustomerIdentifier, sub.AWSCustomerAccountID}
				check := func(want bool) {
					t.Helper()
					for _, q := range []string{"", "&dimension=" + c.dimension + "&quantity=5"} {
						for _, ref := range refs {
							req := httptest.NewRequest(http.MethodGet, "/api/v1/access?customer="+url.QueryEscape(ref)+q, nil)
							req.Header.Set("Authorization", "Bearer "+e.apiKey)
							rec := httptest.NewRecorder()
							e.h.ServeHTTP(rec, req)
							var out struct {
								Allowed        bool
								Reason         string
								SubscriptionID *uint `json:"subscription_id"`
							}
							if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
								t.Fatalf("access: %d %s", rec.Code, rec.Body.String())
							}
							if out.Allowed != want {
								t.Fatalf("access by %s%s: allowed=%v (%s), want %v", ref, q, out.Allowed, out.Reason, want)
							}
						}
					}
				}
				check(true)

				// Usage by either reference lands on the one subscription.
				ts := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
				for i, ref := range refs {
					req := httptest.NewRequest(http.MethodPost, "/api/v1/usage", strings.NewReader(
						`{"events":[{"id":"legacy-`+itoa(sub.ID)+`-`+strconv.Itoa(i)+`","customer":"`+ref+`","dimension":"api_calls","quantity":7,"timestamp":"`+ts+`"}]}`))
					req.Header.Set("Authorization", "Bearer "+e.apiKey)
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					e.h.ServeHTTP(rec, req)
					var out struct{ Results []metering.Result }
					if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 || len(out.Results) != 1 ||
						out.Results[0].Status != "accepted" || out.Results[0].SubscriptionID == nil || *out.Results[0].SubscriptionID != sub.ID {
						t.Fatalf("usage by %s: %d %s", ref, rec.Code, rec.Body.String())
					}
				}

				// Cancel: unsubscribe-pending, the final hour sealed and sent
				// at once (§6.3), then unsubscribe-success.
				e.act(sub, "cancel")
				e.waitState(sub.ID, "unsubscribe_pending")
				if err := e.meter.SealFinal(ctx, sub.ID); err != nil {
					t.Fatal(err)
				}
				legacyKey := "legacy:" + sub.AWSProductCode + ":" + sub.AWSCustomerIdentifier
				caKey := "ca:" + sub.AWSCustomerAccountID + ":" + sub.AWSLicenseArn
				received := 0
				for k, n := range e.sb.AWSMetering.Received() {
					switch {
					case strings.HasPrefix(k, caKey+"|"):
						t.Fatalf("the simulated AWS received %d record(s) under the license: %s", n, k)
					case strings.HasPrefix(k, legacyKey+"|"):
						received += n
					}
				}
				var billed int32
				for _, r := range e.sb.AWSMetering.Metered() {
					switch r.Key {
					case caKey:
						t.Fatalf("billed under the license: %+v", r)
					case legacyKey:
						billed += r.Quantity
					}
				}
				if received == 0 || billed != 14 {
					t.Fatalf("AWS received %d record(s) under the customer identifier and billed %d, want the 14 calls", received, billed)
				}

				sub = e.waitState(sub.ID, "ended")
				check(false)
				e.settle()
				st.TestingReadDB(t).First(&sub, sub.ID)
				if sub.State != "ended" {
					t.Fatalf("after the cancellation: %s", sub.State)
				}
				for _, te := range e.timeline(sub.ID) {
					if te.FromState == "ended" && te.ToState != "ended" {
						t.Fatalf("moved back after the cancellation: %s → %s (%s)", te.FromState, te.ToState, te.Summary)
					}
				}
			})
		}
	})
}
