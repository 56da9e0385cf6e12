package sandbox

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	me "github.com/aws/aws-sdk-go-v2/service/marketplaceentitlementservice"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// awsWorld is the demo data's own simulated AWS Marketplace and the real
// Marketgate parts that answer it: the registration handler, the
// notification processor and the SDK clients, all on the seed's clock. AWS
// demo subscriptions are made by driving them, so what is stored is what
// the real flows store: the inbox (Raw), the timeline with each message,
// the entitlements GetEntitlements answered, the term and seats they give.
type awsWorld struct {
	clock time.Time
	st    store.Store // the seed's store: the same database, the seed's clock
	h     http.Handler
	proc  *awsmp.Processor
	meter *awsfake.Metering
	ents  *awsfake.Entitlements
	terms *awsfake.AgreementService
	aws   *awsmp.Client // the real client, reaching the simulated AWS in process
}

// handlerTransport serves HTTP requests with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func newAWSWorld(st *store.Store) (*awsWorld, error) {
	w := &awsWorld{st: *st}
	w.st.Now = func() time.Time { return w.clock }
	w.meter = awsfake.NewMetering(func() time.Time { return w.clock })
	w.ents = awsfake.NewEntitlements()
	w.terms = awsfake.NewAgreementService()
	mux := http.NewServeMux()
	mux.Handle("/metering", w.meter)
	mux.Handle("/entitlement", w.ents)
	mux.Handle("/agreement/", w.terms)
	hc := &http.Client{Transport: handlerTransport{mux}}
	creds := credentials.NewStaticCredentialsProvider("sandbox", "sandbox", "")
	client := &awsmp.Client{
		Metering: mm.New(mm.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://aws.sandbox.invalid/metering"),
			Credentials: creds, HTTPClient: hc, RetryMaxAttempts: 1}),
		Entitlement: me.New(me.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://aws.sandbox.invalid/entitlement"),
			Credentials: creds, HTTPClient: hc, RetryMaxAttempts: 1}),
		Agreement: ma.New(ma.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://aws.sandbox.invalid/agreement"),
			Credentials: creds, HTTPClient: hc, RetryMaxAttempts: 1}),
	}
	w.aws = client
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.proc = &awsmp.Processor{Store: &w.st, Log: log, AWS: client}
	key := make([]byte, 64)
	_, _ = rand.Read(key)
	h, err := api.New(api.Deps{Store: &w.st, Sessions: auth.NewSessionStore(&w.st, key, false, time.Hour), Log: log,
		AWS: client, AWSEvents: w.proc, Now: func() time.Time { return w.clock }, Info: api.Info{BaseURL: "http://seed.invalid"}})
	if err != nil {
		return nil, err
	}
	w.h = h
	return w, nil
}

// deliver hands AWS's messages to the notification processor, as the
// poller does with what it reads from SQS, at the seed's clock.
func (w *awsWorld) deliver(ctx context.Context, at time.Time, bodies []string) error {
	w.clock = at
	for _, b := range bodies {
		msgID := make([]byte, 8)
		_, _ = rand.Read(msgID)
		if err := w.proc.Receive(ctx, b, fmt.Sprintf("seed-%x", msgID)); err != nil {
			return err
		}
	}
	return nil
}

// register is the buyer's browser posting AWS's registration form.
func (w *awsWorld) register(at time.Time, token string, freeTrial bool) error {
	w.clock = at
	form := url.Values{"x-amzn-marketplace-token": {token}}
	if freeTrial {
		form.Set("x-amzn-marketplace-offer-type", "free-trial")
	}
	req := httptest.NewRequest(http.MethodPost, "/marketplace/aws/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		return fmt.Errorf("registration answered %d", rec.Code)
	}
	return nil
}

// contractGrants is what a contract tier buys: its contract (non-metered)
// dimensions at the units bought; metered dimensions are consumption.
func contractGrants(plan store.Plan, units int, expires time.Time) []awsfake.Entitlement {
	var out []awsfake.Entitlement
	for _, d := range plan.DimensionList() {
		if !d.Metered {
			out = append(out, awsfake.Entitlement{Dimension: d.Key, Value: int32(units), Expiration: expires})
		}
	}
	return out
}

// seedTrialDays is the free trial of the demo's trial buyers (AWS allows 5
// to 31 days).
const seedTrialDays = 14

// awsBuyer is one AWS demo subscription to make: who buys what, when, and
// how its life goes on (roll, as for Microsoft's).
type awsBuyer struct {
	offer             store.Offer
	plan              store.Plan
	customer          store.Customer
	identity          awsfake.Identity
	agreement         string
	start             time.Time
	roll, units       int
	freeTrial, isTest bool
	upgrade           bool
	cancelAgo         time.Duration // unsubscribe pending: cancelled this long ago
	lifetime          time.Duration // ended: cancelled this long after the start
}

// seedAWS makes the AWS demo subscriptions by driving the real flows.
func seedAWS(ctx context.Context, st *store.Store, now time.Time, buyers []awsBuyer) (int, error) {
	if len(buyers) == 0 {
		return 0, nil
	}
	w, err := newAWSWorld(st)
	if err != nil {
		return 0, err
	}
	made := 0
	for _, b := range buyers {
		if err := w.live(ctx, now, b); err != nil {
			return made, fmt.Errorf("AWS demo subscription for %s: %w", b.customer.Name, err)
		}
		made++
	}
	// The agreements' terms are read as the running server would read them
	// (GetAgreementTerms, every linked agreement), so the demo shows free
	// trials and the running server has no backlog of terms to read.
	for n := 1; n > 0; {
		n = w.proc.ReadTerms(ctx)
	}
	return made, nil
}

// live walks one buyer through AWS: purchase, registration, and what comes
// after, each step at its own time, never after now.
func (w *awsWorld) live(ctx context.Context, now time.Time, b awsBuyer) error {
	at := func(t time.Time) time.Time {
		if t.After(now) {
			return now.Add(-time.Minute)
		}
		return t
	}
	more, err := w.buy(ctx, b, at)
	if err != nil || !more {
		return w.finish(ctx, now, b, err)
	}
	if err := w.upgrade(ctx, now, b); err != nil {
		return err
	}
	if err := w.cancel(ctx, now, b, at); err != nil {
		return err
	}
	return w.finish(ctx, now, b, nil)
}

// prepare sets up what AWS knows of a buyer's purchase before it is made:
// a paid contract's entitlements, the registration token, and the terms of
// a concurrent agreement as GetAgreementTerms answers them.
func (w *awsWorld) prepare(b awsBuyer) (token string) {
	id, t := b.identity, b.start
	paid := b.roll >= 8 && !(b.roll >= 62 && b.roll < 67) // 0–7 not confirmed yet, 62–66 payment fails
	if b.offer.Contract && paid {
		w.ents.Set(id, contractGrants(b.plan, b.units, t.AddDate(1, 0, 0))...)
	}
	w.clock = t
	token = w.meter.IssueToken(id)
	if !id.Legacy() && b.agreement != "" {
		// The terms the buyer accepted, as GetAgreementTerms answers them.
		days := 0
		if b.freeTrial {
			days = seedTrialDays
		}
		w.terms.SetTerms(b.agreement, awsfake.DemoTerms(t, days, b.offer.Contract, nil))
		w.terms.SetAgreement(b.agreement, awsfake.AgreementInfo{AcceptorAccountID: id.CustomerAWSAccountID, ProductID: id.ProductCode,
			OfferID: "offer-" + b.offer.MarketplaceID, LicenseArn: id.LicenseArn})
	}
	return token
}

// buy walks the purchase and the registration, in the order the buyer's
// roll says; more is false for a buyer whose story ends there (not
// confirmed yet, payment failed).
func (w *awsWorld) buy(ctx context.Context, b awsBuyer, at func(time.Time) time.Time) (more bool, err error) {
	id, contract, t := b.identity, b.offer.Contract, b.start
	token := w.prepare(b)
	purchase := awsfake.Purchase(id, contract, b.freeTrial, b.agreement, "offer-"+b.offer.MarketplaceID, at(t.Add(time.Minute)))
	register := func() error { return w.register(at(t.Add(2*time.Minute)), token, b.freeTrial) }
	switch {
	case b.roll < 8:
		return false, register()
	case b.roll < 62 && b.roll%2 == 0:
		// AWS often confirms before the buyer finishes registering.
		if err := w.deliver(ctx, at(t.Add(time.Minute)), purchase); err != nil {
			return false, err
		}
		return true, register()
	case b.roll >= 62 && b.roll < 67:
		if err := register(); err != nil || !id.Legacy() { // AWS sends no payment-failure event to concurrent-agreement products
			return false, err
		}
		failed := at(t.Add(3 * time.Minute))
		return false, w.deliver(ctx, failed, []string{awsfake.SNSNotification("subscribe-fail", id, b.freeTrial, failed)})
	}
	if err := register(); err != nil {
		return false, err
	}
	// AWS confirmed the payment after the buyer had registered.
	confirmed := at(t.Add(3 * time.Minute))
	purchase = awsfake.Purchase(id, contract, b.freeTrial, b.agreement, "offer-"+b.offer.MarketplaceID, confirmed)
	return true, w.deliver(ctx, confirmed, purchase)
}

// upgrade raises a contract's units a month after the purchase, for the
// buyers whose roll says so (while the contract runs).
func (w *awsWorld) upgrade(ctx context.Context, now time.Time, b awsBuyer) error {
	t := b.start
	up := t.Add(30 * 24 * time.Hour)
	if !b.offer.Contract || !b.upgrade || !up.Before(now.Add(-2*time.Hour)) || (b.roll >= 71 && !up.Before(t.Add(b.lifetime))) {
		return nil
	}
	grants := w.ents.Of(b.identity)
	for i := range grants {
		grants[i].Value += 10
	}
	w.clock = up
	w.ents.Set(b.identity, grants...)
	return w.deliver(ctx, up, awsfake.ContractChanged(b.identity, b.agreement, up))
}

// cancel ends the buyers whose roll says so: cancelled a while ago
// (unsubscribe pending), or cancelled and ended after their lifetime.
func (w *awsWorld) cancel(ctx context.Context, now time.Time, b awsBuyer, at func(time.Time) time.Time) error {
	id := b.identity
	switch {
	case b.roll < 62:
		return nil
	case b.roll < 71:
		cancel := now.Add(-b.cancelAgo)
		return w.deliver(ctx, cancel, awsfake.CancelRequested(id, b.agreement, cancel))
	}
	end := at(b.start.Add(b.lifetime))
	if end.Add(time.Hour).After(now) {
		end = now.Add(-2 * time.Hour)
	}
	if err := w.deliver(ctx, end, awsfake.CancelRequested(id, b.agreement, end)); err != nil {
		return err
	}
	done := end.Add(time.Hour) // AWS: about an hour for the final usage
	w.clock = done
	w.ents.Expire(id, done)
	w.meter.Unsubscribe(id)
	return w.deliver(ctx, done, awsfake.CancelCompleted(id, b.offer.Contract, b.agreement, done))
}

// finish gives the subscription what the buyer's onboarding form and the
// seller would: the customer, a name, the test flag. The subscription is
// found by the key of the buyer's model: a legacy buyer's product code and
// CustomerIdentifier (they carry an account and a license too), else
// account and license.
func (w *awsWorld) finish(ctx context.Context, now time.Time, b awsBuyer, err error) error {
	if err != nil {
		return err
	}
	tx := w.st.Writes(ctx)
	var sub *store.Subscription
	if b.identity.Legacy() {
		sub, err = tx.AWSSubscriptionByCustomerIdentifier(b.identity.ProductCode, b.identity.CustomerIdentifier)
	} else {
		sub, err = tx.AWSSubscriptionByLicense(b.identity.CustomerAWSAccountID, b.identity.LicenseArn)
	}
	if err != nil {
		return err
	}
	if sub == nil {
		return fmt.Errorf("the flows made no subscription for %+v", b.identity)
	}
	// Changed by the seller at the seed's present (the portal lists the AWS
	// demo subscriptions as the latest changed, in the order they were
	// made); the search digest follows the customer and the name.
	upd := map[string]any{"customer_id": b.customer.ID, "name": subscriptions.DisplayName("", b.customer.Name, b.offer.Name), "is_test": b.isTest,
		"updated_at": now}
	if sub.PlanID == nil && !b.offer.Contract {
		// A SaaS subscription meters its offer's dimensions from
		// registration on; where the flows leave it without a plan the seed
		// gives it the offer's, so the demo can be metered.
		upd["plan_id"] = b.plan.ID
	}
	return tx.UpdateSubscription(sub.ID, 0, upd)
}
