package sandbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// The demo's month: so that a newcomer sees every page with data, a few
// metered subscriptions on each marketplace live through the last
// demoDays on a simulated clock, everything done by the real code against
// the simulated marketplaces: usage reported through the meter's ingestion,
// hours sealed and sent by the meter to the fakes (which answer as AWS and
// Microsoft document), AWS's notifications through the notification
// processor, outbound webhooks delivered by the dispatcher to receivers in
// this process, alerts raised by the alert sweep. The fakes are told the
// month's mishaps (demoStories): outages, another writer metering the same
// hours, a buyer's account suspended at AWS, a subscription suspended at
// Microsoft before its webhook, a forged SNS message, a notification that
// failed and was replayed.
const (
	demoKey  = "sandbox_demo_seeded_at"
	demoDays = 30
	demoStep = 12 * time.Hour // how often the simulated server runs its jobs (more often in an outage: demoStories)
)

// demoWorld is the simulated month: AWS (awsWorld), Microsoft, the meter,
// the webhook dispatcher and the alerts, all on the world's clock.
type demoWorld struct {
	*awsWorld
	rng    *rand.Rand
	start  time.Time // the month's first hour
	mk     *azurefake.Marketplace
	az     *azuremp.Client
	m      *metering.Meter // the real meter
	hooks  *webhooks.Dispatcher
	alerts *alerts.Service
	series []demoSeries
	subs   map[string]*store.Subscription // the demo's subscriptions by role
	ids    map[string]awsfake.Identity    // the AWS ones' identities by role
	// agreements: the AWS ones' agreements by role
	agreements map[string]string
	azp        *azuremp.Processor   // the real Microsoft notification and operations processor
	holdAzure  bool                 // the seller's server does not answer Microsoft's webhooks
	ends       map[string]time.Time // the AWS agreements' ends, by role, once AWS said them
	suspendOp  string               // Microsoft's Suspend operation, whose webhook is late
}

// demoSeries is one metered dimension of a demo subscription, and how busy
// it is.
type demoSeries struct {
	sub   *store.Subscription
	dim   string
	scale float64
	spike bool
}

// demoRole is one demo subscription: its role in the stories, offer, plan.
type demoRole struct {
	role, offer, plan string
	scale             float64
}

var demoRoles = []demoRole{
	{"aws-big", "acme4analytics7legacy", "standard", 120},
	{"aws-cancels", "acme4analytics7legacy", "standard", 40},
	{"aws-other-writer", "acme5cloud8ca", "standard", 60},
	{"aws-contract", "acme9contracts2ca", "premium_users", 25},
	{"azure-big", "acme-analytics-saas", "silver", 90},
	{"azure-other-writer", "acme-analytics-saas", "gold", 50},
	{"azure-suspended", "acme-analytics-saas", "silver", 30},
	// Per-user plans, not metered: the desk's change requests.
	{"azure-seats", "acme-teams-app", "per-user", 0},
	{"azure-unsubscribe", "acme-teams-app", "per-user-enterprise", 0},
}

// seedDemo runs the demo's month, once per database.
func seedDemo(ctx context.Context, st *store.Store, now time.Time, seed uint64, offers []store.Offer, customers []store.Customer) error {
	fresh := false
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if done, err := tx.HasSetting(demoKey); err != nil || done {
			return err
		}
		fresh = true
		return tx.CreateSetting(demoKey, now.Format(time.RFC3339), now)
	})
	if err != nil || !fresh {
		return err
	}
	w, err := newDemoWorld(ctx, st, now, seed)
	if err != nil {
		return err
	}
	if err := w.buy(ctx, offers, customers); err != nil {
		return err
	}
	return w.run(ctx, now)
}

func newDemoWorld(ctx context.Context, st *store.Store, now time.Time, seed uint64) (*demoWorld, error) {
	aw, err := newAWSWorld(st)
	if err != nil {
		return nil, err
	}
	w := &demoWorld{awsWorld: aw, rng: rand.New(rand.NewPCG(seed, 13)), subs: map[string]*store.Subscription{}, ids: map[string]awsfake.Identity{},
		agreements: map[string]string{}, ends: map[string]time.Time{}}
	w.start = now.Truncate(time.Hour).Add(-demoDays * 24 * time.Hour)
	w.clock = w.start
	clock := func() time.Time { return w.clock }
	// Microsoft: the marketplace selling the catalog's offers, and the
	// Entra ID that issues the publisher's tokens, reached in process.
	offers, err := AzureOffers(ctx, st)
	if err != nil {
		return nil, err
	}
	w.mk = azurefake.NewMarketplace(azurefake.Options{Now: clock, Base: demoAzureAPI, Offers: offers, Webhook: w.azureWebhook})
	entra := azurefake.NewEntra(demoEntra, clock)
	entra.RegisterApp(demoTenant, demoClient, demoSecret)
	hc := &http.Client{Transport: handlerTransport{demoMicrosoft{api: w.mk, entra: entra}}}
	w.az, err = azuremp.New(azuremp.Config{TenantID: demoTenant, ClientID: demoClient, ClientSecret: demoSecret,
		APIURL: demoAzureAPI, LoginURL: demoEntra, TokenHTTP: hc, HTTP: hc})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.azp = &azuremp.Processor{Store: &w.st, Log: log, Client: w.az}
	w.alerts = &alerts.Service{Store: &w.st, Log: log, BaseURL: "http://seed.invalid", HTTP: &http.Client{Transport: handlerTransport{Receiver()}}}
	calls := &alerts.Calls{Alerts: w.alerts}
	w.m = &metering.Meter{Store: &w.st, Log: log, Owner: "sandbox-seed", AWS: w.aws, Azure: w.az, Concurrency: 1, OnCall: calls.Observe}
	w.hooks = &webhooks.Dispatcher{Store: &w.st, Log: log, Owner: "sandbox-seed",
		HTTP: &http.Client{Transport: handlerTransport{Receiver()}}, OnDisabled: w.alerts.EndpointDisabled}
	return w, nil
}

// The simulated month's Microsoft: where its APIs and Entra answer, and
// the publisher's app.
const (
	demoAzureAPI = "https://marketplaceapi.sandbox.invalid/api"
	demoEntra    = "https://login.sandbox.invalid"
	demoTenant   = "7d3c5e1a-0b4f-4a8e-9c2d-5f6e7a8b9c0d"
	demoClient   = "2b8f4d6e-1c3a-4e5f-8a9b-0c1d2e3f4a5b"
	demoSecret   = "sandbox-demo-secret"
)

// demoMicrosoft routes the Microsoft client's calls: the marketplace's
// APIs under /api of their host, Entra on its own.
type demoMicrosoft struct{ api, entra http.Handler }

func (d demoMicrosoft) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Host != "marketplaceapi.sandbox.invalid" {
		d.entra.ServeHTTP(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, "/api")
	d.api.ServeHTTP(w, r2)
}

// buy makes the demo's subscriptions, bought a few weeks before the month
// starts: the AWS ones through the real flows (awsWorld.live), the
// Microsoft ones by their lifecycle events, as the rest of the demo.
func (w *demoWorld) buy(ctx context.Context, offers []store.Offer, customers []store.Customer) error {
	used := map[uint]bool{}
	for _, r := range demoRoles {
		offer, plan, ok := findPlan(offers, r.offer, r.plan)
		if !ok {
			return fmt.Errorf("demo offer %s/%s missing", r.offer, r.plan)
		}
		cust, ok := demoCustomer(customers, offer.Marketplace, used)
		if !ok {
			return fmt.Errorf("no customer left for %s", r.role)
		}
		pk := seedPick{cust: cust, offer: offer, plan: plan, roll: 20, quantity: 0,
			start: w.start.Add(-time.Duration(20+w.rng.IntN(40)) * 24 * time.Hour).Add(time.Duration(w.rng.IntN(600)) * time.Minute)}
		if plan.SeatBased {
			pk.quantity = 25
		}
		if offer.Marketplace == string(lifecycle.AWS) {
			b := newAWSBuyer(w.rng, pk)
			b.freeTrial, b.isTest, b.upgrade = false, false, false
			if err := w.live(ctx, w.start, *b); err != nil {
				return fmt.Errorf("demo %s: %w", r.role, err)
			}
			w.ids[r.role], w.agreements[r.role] = b.identity, b.agreement
			continue
		}
		pk.roll = 50 // resolved and activated
		ref, err := w.azureBuy(ctx, pk)
		if err != nil {
			return err
		}
		w.ids[r.role] = awsfake.Identity{CustomerIdentifier: ref} // the Microsoft subscription id
	}
	for n := 1; n > 0; {
		n = w.proc.ReadTerms(ctx)
	}
	if err := ImportAzure(ctx, &w.st, w.mk); err != nil {
		return err
	}
	return w.loadSeries(ctx)
}

// azureBuy makes one Microsoft demo subscription and answers its id.
func (w *demoWorld) azureBuy(ctx context.Context, pk seedPick) (string, error) {
	var id string
	err := w.st.InTx(ctx, func(tx *store.Tx) error {
		ref, steps := azureSteps(w.rng, w.start, pk)
		id = ref.AzureSubscriptionID
		return applyAzureSteps(tx, w.rng, pk, ref, steps)
	})
	return id, err
}

func findPlan(offers []store.Offer, offerID, planID string) (store.Offer, store.Plan, bool) {
	for _, o := range offers {
		if o.MarketplaceID != offerID {
			continue
		}
		for _, p := range o.Plans {
			if p.PlanID == planID {
				return o, p, true
			}
		}
	}
	return store.Offer{}, store.Plan{}, false
}

// demoCustomer is the first customer not used yet with an account on the
// marketplace.
func demoCustomer(customers []store.Customer, mp string, used map[uint]bool) (store.Customer, bool) {
	for _, c := range customers {
		if used[c.ID] || (mp == "aws" && c.AWSAccountID == "") || (mp == "azure" && c.AzureTenantID == "") {
			continue
		}
		used[c.ID] = true
		return c, true
	}
	return store.Customer{}, false
}

// loadSeries reads the demo's subscriptions back and lists their metered
// dimensions, each with how busy it is.
func (w *demoWorld) loadSeries(ctx context.Context) error {
	subs, err := w.st.Reads(ctx).SubscriptionsInStatesWithPlan([]string{string(lifecycle.Active)}, 0, 0)
	if err != nil {
		return err
	}
	for i := range subs {
		s := &subs[i]
		role := w.roleOf(s)
		if role == nil {
			continue
		}
		w.subs[role.role] = s
		for _, d := range metering.MeteredDimensions(s.Plan, s.Offer != nil && s.Offer.Contract) {
			scale := role.scale
			if d.Key == "storage_gb" {
				scale *= 3
			}
			w.series = append(w.series, demoSeries{sub: s, dim: d.Key, scale: scale, spike: role.role == "aws-big" && d.Key == "api_calls"})
		}
	}
	if len(w.subs) != len(demoRoles) {
		return fmt.Errorf("the flows made %d of the %d demo subscriptions", len(w.subs), len(demoRoles))
	}
	return nil
}

// roleOf finds which demo role a subscription plays (nil: none).
func (w *demoWorld) roleOf(s *store.Subscription) *demoRole {
	for i, r := range demoRoles {
		id := w.ids[r.role]
		if (s.Marketplace == "azure" && s.AzureSubscriptionID == id.CustomerIdentifier) ||
			(s.Marketplace == "aws" && s.AWSLicenseArn != "" && s.AWSLicenseArn == id.LicenseArn) {
			return &demoRoles[i]
		}
	}
	return nil
}

// run lives the month: every demoStep the server's jobs run as they would
// (usage reported in the meantime ingested, finished hours sealed, records
// sent, webhooks delivered, alerts swept), and each story at its time.
func (w *demoWorld) run(ctx context.Context, now time.Time) error {
	stories := w.stories()
	for t := w.start; t.Before(now); t = t.Add(demoStep) {
		end := t.Add(demoStep)
		if end.After(now) {
			end = now
		}
		// The seller's app reports each hour's usage as the hour ends (AWS
		// takes a month's usage only until 06:00 UTC on the 1st); the
		// month's stories happen at their times in between.
		for h := t; h.Before(end); h = h.Add(time.Hour) {
			he := h.Add(time.Hour)
			if he.After(end) {
				he = end
			}
			for len(stories) > 0 && stories[0].at.Before(he) {
				w.clock = stories[0].at
				if err := stories[0].do(ctx); err != nil {
					return fmt.Errorf("demo story at %s: %w", stories[0].at, err)
				}
				stories = stories[1:]
			}
			w.clock = he
			if err := w.report(ctx, h, he); err != nil {
				return err
			}
		}
		w.clock = end
		if err := w.jobs(ctx, !end.Before(now)); err != nil {
			return err
		}
	}
	return nil
}

// jobs is one round of the server's background jobs at the world's clock.
func (w *demoWorld) jobs(ctx context.Context, last bool) error {
	if _, err := w.m.Seal(ctx); err != nil {
		return err
	}
	if _, err := w.m.WarnExpiring(ctx); err != nil {
		return err
	}
	if last {
		// The month ends with records in flight: AWS leaves a few
		// unprocessed and Microsoft answers 503 once (both kept pending
		// and sent again by the running server).
		w.meter.UnprocessNext(2)
		w.mk.FailNext("batchUsageEvent", http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`)
	}
	if _, err := w.m.Dispatch(ctx); err != nil {
		return err
	}
	w.proc.RetryDue(ctx)
	w.azp.RetryDue(ctx)
	w.azp.PollOperations(ctx)
	for i := 0; i < 4; i++ {
		if n, err := w.hooks.Once(ctx); err != nil || n == 0 {
			if err != nil {
				return err
			}
			break
		}
	}
	if err := w.alerts.Sweep(ctx); err != nil {
		return err
	}
	_, err := w.alerts.Notify(ctx)
	return err
}

// report is the seller's app reporting the usage of [from, to): a few
// events an hour per series, through the meter's ingestion as the usage
// API does.
func (w *demoWorld) report(ctx context.Context, from, to time.Time) error {
	var evs []metering.Event
	// The app reports for active subscriptions only (it stops once one is
	// suspended or over).
	active := map[uint]bool{}
	for _, s := range w.series {
		state, err := w.st.Writes(ctx).SubscriptionState(s.sub.ID)
		if err != nil {
			return err
		}
		active[s.sub.ID] = state == string(lifecycle.Active)
	}
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		for _, s := range w.series {
			if !active[s.sub.ID] {
				continue
			}
			q := w.quantity(s, h)
			n := 1 + w.rng.IntN(3)
			for i := 0; i < n && q > 0; i++ {
				part := q / float64(n)
				if i == n-1 {
					part = q - float64(n-1)*math.Floor(q/float64(n))
				} else {
					part = math.Floor(part)
				}
				at := h.Add(time.Duration(w.rng.IntN(3600)) * time.Second)
				if !at.Before(to) || part <= 0 {
					continue
				}
				evs = append(evs, metering.Event{ID: fmt.Sprintf("demo-%d-%s-%d-%d", s.sub.ID, s.dim, h.Unix(), i),
					Subscription: fmt.Sprint(s.sub.ID), Dimension: s.dim, Quantity: part, Timestamp: at})
			}
		}
	}
	for len(evs) > 0 {
		n := min(len(evs), metering.MaxBatch)
		res, err := w.m.Ingest(ctx, nil, "api", evs[:n])
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Status == "rejected" {
				return fmt.Errorf("demo usage %s rejected: %s", r.ID, r.Reason)
			}
		}
		evs = evs[n:]
	}
	return nil
}

// quantity is an hour's usage of a series: the working day of its users
// (Tokyo, 00:00–09:00 UTC) busy, the night quiet; weekends a third of a
// weekday; growing by half over the month; one spike (a customer's batch
// import) on the big AWS customer's api_calls.
func (w *demoWorld) quantity(s demoSeries, h time.Time) float64 {
	day := h.Sub(w.start).Hours() / 24
	growth := 1 + 0.5*day/demoDays
	var curve float64
	switch hr := h.Hour(); {
	case hr < 9:
		curve = 0.75 + 0.25*math.Sin(math.Pi*float64(hr)/9)
	case hr < 12:
		curve = 0.35
	default:
		curve = 0.08
		if w.rng.IntN(3) == 0 {
			return 0 // idle
		}
	}
	if wd := h.Weekday(); wd == time.Saturday || wd == time.Sunday {
		curve *= 0.3
	}
	q := s.scale * growth * curve * (0.8 + 0.4*w.rng.Float64())
	if s.spike && int(day) == 19 && h.Hour() >= 2 && h.Hour() < 6 {
		q *= 6
	}
	return math.Round(q)
}
