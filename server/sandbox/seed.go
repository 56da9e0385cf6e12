// Package sandbox runs Marketgate without a cloud account: demo data now,
// simulated marketplaces as they arrive.
package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// SeedOptions tune the demo data.
type SeedOptions struct {
	Subscriptions int       // default 400
	Customers     int       // default 150
	Now           time.Time // default: the store's clock
	Seed          uint64    // random seed; the same seed gives the same data
	UsageHistory  bool      // also the demo's month of usage, failures and alerts (seedDemo)
}

const seededKey = "sandbox_seeded_at"

// Demo offers. Marketplace ids are what the simulated marketplaces will use.
var demoOffers = []struct {
	offer store.Offer
	plans []store.Plan
}{
	{store.Offer{Marketplace: "aws", Name: "Acme Analytics", MarketplaceID: "acme4analytics7legacy", IdentityModel: "legacy"},
		[]store.Plan{
			{PlanID: "standard", Name: "Standard (pay as you go)", Dimensions: `[{"key":"api_calls","name":"API calls","unit":"call"},{"key":"storage_gb","name":"Storage","unit":"GB-hour"}]`, ActivationPolicy: store.ActivateAutomatic},
		}},
	{store.Offer{Marketplace: "aws", Name: "Acme Analytics Contracts", MarketplaceID: "acme9contracts2ca", IdentityModel: "concurrent_agreements", Contract: true},
		[]store.Plan{
			{PlanID: "basic_users", Name: "Basic (per user)", SeatBased: true, Dimensions: `[{"key":"basic_users","name":"Basic users","unit":"user"}]`, ActivationPolicy: store.ActivateAutomatic},
			{PlanID: "premium_users", Name: "Premium (per user)", SeatBased: true, Dimensions: `[{"key":"premium_users","name":"Premium users","unit":"user"},{"key":"api_calls","name":"API calls over quota","unit":"call","metered":true}]`, ActivationPolicy: store.ActivateAutomatic},
		}},
	{store.Offer{Marketplace: "azure", Name: "Acme Analytics for Azure", MarketplaceID: "acme-analytics-saas"},
		[]store.Plan{
			{PlanID: "silver", Name: "Silver", Dimensions: `[{"key":"api_calls","name":"API calls","unit":"1000 calls"}]`, ActivationPolicy: store.ActivateAutomatic},
			{PlanID: "gold", Name: "Gold", Dimensions: `[{"key":"api_calls","name":"API calls","unit":"1000 calls"}]`, ActivationPolicy: store.ActivateBuyerConfirms},
		}},
	{store.Offer{Marketplace: "azure", Name: "Acme Teams App", MarketplaceID: "acme-teams-app"},
		[]store.Plan{
			{PlanID: "per-user", Name: "Per user", SeatBased: true, Dimensions: `[]`, ActivationPolicy: store.ActivateSellerApproves},
			{PlanID: "per-user-enterprise", Name: "Per user, enterprise", SeatBased: true, Dimensions: `[]`, ActivationPolicy: store.ActivateSellerApproves},
		}},
	// Added later (ids stay stable): the other two AWS cases, so the sandbox has
	// a SaaS subscription and a contract under each identity model.
	{store.Offer{Marketplace: "aws", Name: "Acme Analytics Cloud", MarketplaceID: "acme5cloud8ca", IdentityModel: "concurrent_agreements"},
		[]store.Plan{
			{PlanID: "standard", Name: "Standard (pay as you go)", Dimensions: `[{"key":"api_calls","name":"API calls","unit":"call"}]`, ActivationPolicy: store.ActivateAutomatic},
		}},
	{store.Offer{Marketplace: "aws", Name: "Acme Analytics Enterprise", MarketplaceID: "acme6enterprise3legacy", IdentityModel: "legacy", Contract: true},
		[]store.Plan{
			{PlanID: "enterprise_users", Name: "Enterprise (per user)", SeatBased: true, Dimensions: `[{"key":"enterprise_users","name":"Enterprise users","unit":"user"}]`, ActivationPolicy: store.ActivateAutomatic},
		}},
}

var (
	prefixes = []string{"Contoso", "Fabrikam", "Northwind", "Tailspin", "Adatum", "Litware", "Proseware", "Woodgrove",
		"Wingtip", "Alpine", "Blue Yonder", "Coho", "Fourth Coffee", "Graphic Design", "Humongous", "Lucerne",
		"Margie's", "Nod", "Relecloud", "Southridge", "Trey", "VanArsdel", "Wide World", "Datum", "Bellows", "Kinnear"}
	suffixes = []string{"Corp", "Ltd", "Labs", "Group", "Systems", "Industries", "Health", "Bank", "Logistics",
		"Retail", "Media", "Energy", "Insurance", "Software", "Foods", "Travel"}
)

// Seed fills an empty sandbox database with demo offers, customers and
// subscriptions in every lifecycle state. Microsoft subscriptions are built
// by applying real lifecycle events, so that each timeline tells how it got
// there. AWS subscriptions are made by the real flows against a simulated
// AWS: the buyer's registration POST through the registration handler,
// AWS's notifications through the notification processor, contracts' grants
// read with GetEntitlements (seedAWS). It runs once per database and returns
// how many subscriptions it created.
func Seed(ctx context.Context, st *store.Store, o SeedOptions) (int, error) {
	o = o.withDefaults(st)
	if _, done, err := st.GetSetting(ctx, seededKey); err != nil || done {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	now := o.Now.UTC()
	var offers []store.Offer
	var customers []store.Customer
	var fresh bool
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if done, err := tx.HasSetting(seededKey); err != nil || done {
			return err
		}
		var err error
		if offers, err = seedOffers(tx, now); err != nil {
			return err
		}
		if customers, err = seedCustomers(tx, rng, now, o.Customers); err != nil {
			return err
		}
		fresh = true
		// Marked now: an interrupted first start leaves fewer demo
		// subscriptions rather than a second set of offers.
		return tx.CreateSetting(seededKey, now.Format(time.RFC3339), now)
	})
	if err != nil || !fresh {
		return 0, err
	}
	// The demo's month of usage runs first, on its own few subscriptions:
	// the meter seals a record for every active metered subscription every
	// hour, and a month of that for hundreds would slow the first start.
	if o.UsageHistory {
		if err := seedDemo(ctx, st, now, o.Seed, offers, customers); err != nil {
			return 0, fmt.Errorf("demo history: %w", err)
		}
	}
	created := 0
	var buyers []awsBuyer
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < o.Subscriptions; i++ {
			b, err := seedSubscription(tx, rng, now, offers, customers)
			if err != nil {
				return err
			}
			if b != nil {
				buyers = append(buyers, *b)
			} else {
				created++
			}
		}
		return nil
	})
	if err != nil {
		return created, err
	}
	n, err := seedAWS(ctx, st, now, buyers)
	return created + n, err
}

// withDefaults fills the options left zero: 400 subscriptions, 150
// customers, the store's clock and a fixed random seed.
func (o SeedOptions) withDefaults(st *store.Store) SeedOptions {
	if o.Subscriptions == 0 {
		o.Subscriptions = 400
	}
	if o.Customers == 0 {
		o.Customers = 150
	}
	if o.Now.IsZero() {
		o.Now = st.Now()
	}
	if o.Seed == 0 {
		o.Seed = 20261124
	}
	return o
}

// seedOffers creates the demo offers with their plans.
func seedOffers(tx *store.Tx, now time.Time) ([]store.Offer, error) {
	offers := make([]store.Offer, len(demoOffers))
	for i, d := range demoOffers {
		of := d.offer
		of.CreatedAt, of.UpdatedAt = now, now
		for _, p := range d.plans {
			p.CreatedAt, p.UpdatedAt = now, now
			of.Plans = append(of.Plans, p)
		}
		if err := tx.CreateOfferWithPlans(&of); err != nil {
			return nil, err
		}
		offers[i] = of
	}
	return offers, nil
}

// seedCustomers creates n demo customers, each with an AWS account, an
// Azure tenant or both.
func seedCustomers(tx *store.Tx, rng *rand.Rand, now time.Time, n int) ([]store.Customer, error) {
	customers := make([]store.Customer, n)
	// Each demo customer is one organisation: every name (and so its
	// e-mail domain) is drawn once, from the shuffled prefix × suffix
	// pairs; past them, the pairs come round again with a number.
	// The names come from a stream of their own: the rest of the demo
	// (accounts, subscriptions, their lifecycles) is drawn as before.
	pairs := rand.New(rand.NewPCG(uint64(n), 11)).Perm(len(prefixes) * len(suffixes))
	for i := range customers {
		_, _ = rng.IntN(len(prefixes)), rng.IntN(len(suffixes)) // the draws the names once took
		k := pairs[i%len(pairs)]
		name := fmt.Sprintf("%s %s", prefixes[k/len(suffixes)], suffixes[k%len(suffixes)])
		if i >= len(pairs) {
			name = fmt.Sprintf("%s %d", name, i/len(pairs)+1)
		}
		domain := strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(name)) + ".example"
		c := store.Customer{Name: name, Email: "it@" + domain, CreatedAt: now, UpdatedAt: now}
		if rng.IntN(3) > 0 {
			c.AWSAccountID = fmt.Sprintf("%012d", rng.Int64N(1e12))
		}
		if rng.IntN(2) == 0 || c.AWSAccountID == "" {
			c.AzureTenantID = uuid(rng)
		}
		if err := tx.CreateCustomer(&c); err != nil {
			return nil, err
		}
		customers[i] = c
	}
	return customers, nil
}

type step struct {
	ev      lifecycle.Event
	payload map[string]any
	source  string
}

// seedPick is what one demo subscription is drawn from: who bought which
// plan when, the roll that decides its lifecycle, and its seats.
type seedPick struct {
	cust     store.Customer
	offer    store.Offer
	plan     store.Plan
	start    time.Time
	roll     int
	quantity int
}

// seedSubscription draws one demo subscription. A Microsoft one is made
// here by applying its lifecycle events; an AWS one is answered as a buyer
// for seedAWS to drive through the real flows.
func seedSubscription(tx *store.Tx, rng *rand.Rand, now time.Time, offers []store.Offer, customers []store.Customer) (*awsBuyer, error) {
	var pk seedPick
	pk.cust, pk.offer = pickCustomerOffer(rng, offers, customers)
	pk.plan = pk.offer.Plans[rng.IntN(len(pk.offer.Plans))]
	pk.start = now.Add(-time.Duration(rng.IntN(365*24*60)) * time.Minute).Truncate(time.Second)
	if pk.plan.SeatBased {
		pk.quantity = []int{5, 10, 25, 50, 100, 250}[rng.IntN(6)]
	}
	pk.roll = rng.IntN(100)
	if pk.offer.Marketplace == "aws" {
		return newAWSBuyer(rng, pk), nil
	}
	return nil, seedAzureSubscription(tx, rng, now, pk)
}

// pickCustomerOffer draws a customer and an offer of a marketplace the
// customer has an account with.
func pickCustomerOffer(rng *rand.Rand, offers []store.Offer, customers []store.Customer) (store.Customer, store.Offer) {
	for {
		cust := customers[rng.IntN(len(customers))]
		offer := offers[rng.IntN(len(offers))]
		if (offer.Marketplace == "aws" && cust.AWSAccountID != "") || (offer.Marketplace == "azure" && cust.AzureTenantID != "") {
			return cust, offer
		}
	}
}

// newAWSBuyer draws the AWS buyer of a demo subscription.
func newAWSBuyer(rng *rand.Rand, pk seedPick) *awsBuyer {
	offer, cust := pk.offer, pk.cust
	b := &awsBuyer{offer: offer, plan: pk.plan, customer: cust, start: pk.start, roll: pk.roll, units: pk.quantity,
		freeTrial: !offer.Contract && rng.IntN(8) == 0, isTest: rng.IntN(25) == 0,
		identity: awsfake.Identity{ProductCode: offer.MarketplaceID}, agreement: "agmt-" + hex(rng, 24),
		cancelAgo: time.Duration(1+rng.IntN(50)) * time.Minute, lifetime: time.Duration(24+rng.IntN(24*200)) * time.Hour,
		upgrade: rng.IntN(3) == 0}
	// What ResolveCustomer answers (reference §1, §3): the buyer's
	// account and license, and for a legacy product the
	// CustomerIdentifier too, all four at once.
	b.identity.CustomerAWSAccountID = cust.AWSAccountID
	b.identity.LicenseArn = fmt.Sprintf("arn:aws:license-manager::%s:license:l-%s", cust.AWSAccountID, hex(rng, 32))
	if offer.IdentityModel == "legacy" {
		b.identity.CustomerIdentifier = randomID(rng, "X", 11)
	}
	if b.units == 0 {
		b.units = []int{5, 10, 25, 50, 100, 250}[rng.IntN(6)]
	}
	return b
}

// seedAzureSubscription makes a Microsoft demo subscription by applying
// the lifecycle events azureSteps draws.
func seedAzureSubscription(tx *store.Tx, rng *rand.Rand, now time.Time, pk seedPick) error {
	ref, steps := azureSteps(rng, now, pk)
	return applyAzureSteps(tx, rng, pk, ref, steps)
}

// applyAzureSteps applies a Microsoft subscription's lifecycle events.
func applyAzureSteps(tx *store.Tx, rng *rand.Rand, pk seedPick, ref subscriptions.Ref, steps []step) error {
	cust, offer := pk.cust, pk.offer
	init := func(s *store.Subscription) {
		s.CustomerID, s.OfferID = &cust.ID, &offer.ID
		// Microsoft names every subscription; the simulated one is told this name (seedAzure).
		s.Name = subscriptions.DisplayName("", cust.Name, offer.Name)
		s.FreeTrial = false
		s.IsTest = rng.IntN(25) == 0
		s.AutoRenew = offer.Marketplace == "azure" && rng.IntN(5) > 0
		s.AzureTenantID = ""
		if offer.Marketplace == "azure" {
			s.AzureTenantID = cust.AzureTenantID
		}
		s.CreatedAt = pk.start
	}
	for _, stp := range steps {
		payload, _ := json.Marshal(stp.payload)
		if _, err := subscriptions.ApplyTx(tx, stp.ev.At, ref, stp.ev, subscriptions.Meta{Source: stp.source, Actor: "sandbox", Payload: string(payload)}, init); err != nil {
			return err
		}
	}
	return nil
}

// azureSteps draws the lifecycle of a Microsoft demo subscription: resolved
// only, active (maybe with more seats, renewed after a year), suspended or
// unsubscribed, by the pick's roll.
func azureSteps(rng *rand.Rand, now time.Time, pk seedPick) (subscriptions.Ref, []step) {
	offer, plan, cust, start, roll, quantity := pk.offer, pk.plan, pk.cust, pk.start, pk.roll, pk.quantity
	at := func(d time.Duration) time.Time {
		t := start.Add(d)
		if t.After(now) {
			t = now.Add(-time.Minute)
		}
		return t
	}
	ref := subscriptions.Ref{}
	var steps []step
	ref.AzureSubscriptionID = uuid(rng)
	if quantity == 0 && rng.IntN(3) == 0 {
		quantity = 1
	}
	termEnd := start.AddDate(1, 0, 0)
	hook := func(action string, status string) map[string]any {
		return map[string]any{"id": uuid(rng), "activityId": uuid(rng), "subscriptionId": ref.AzureSubscriptionID,
			"offerId": offer.MarketplaceID, "planId": plan.PlanID, "quantity": quantity, "action": action,
			"status": status, "operationRequestSource": "Azure"}
	}
	resolved := step{lifecycle.Event{Kind: lifecycle.AzureResolved, At: at(0), PlanID: plan.PlanID, Quantity: quantity},
		map[string]any{"id": ref.AzureSubscriptionID, "offerId": offer.MarketplaceID, "planId": plan.PlanID,
			"quantity": quantity, "subscriptionName": cust.Name + " " + plan.Name}, "azure_landing"}
	activated := step{lifecycle.Event{Kind: lifecycle.AzureActivated, At: at(5 * time.Minute)},
		map[string]any{"planId": plan.PlanID, "quantity": quantity}, "portal"}
	switch {
	case roll < 10:
		steps = []step{resolved}
	case roll < 72:
		steps = []step{resolved, activated}
		if quantity > 1 && rng.IntN(4) == 0 {
			q := quantity * 2
			p := hook("ChangeQuantity", "InProgress")
			p["quantity"] = q
			steps = append(steps, step{lifecycle.Event{Kind: lifecycle.AzureChangeQuantity, At: at(30 * 24 * time.Hour), Quantity: q}, p, "azure_webhook"})
		}
		if termEnd.Before(now) {
			steps = append(steps, step{lifecycle.Event{Kind: lifecycle.AzureRenew, At: termEnd, TermStart: termEnd, TermEnd: termEnd.AddDate(1, 0, 0)}, hook("Renew", "Succeeded"), "azure_webhook"})
		}
	case roll < 80:
		steps = []step{resolved, activated, {lifecycle.Event{Kind: lifecycle.AzureSuspend, At: at(time.Duration(24+rng.IntN(24*90)) * time.Hour)}, hook("Suspend", "Succeeded"), "azure_webhook"}}
	default:
		steps = []step{resolved, activated, {lifecycle.Event{Kind: lifecycle.AzureUnsubscribe, At: at(time.Duration(24+rng.IntN(24*200)) * time.Hour)}, hook("Unsubscribe", "Succeeded"), "azure_webhook"}}
	}
	steps[0].ev.TermStart, steps[0].ev.TermEnd = start, termEnd
	return ref, steps
}

func uuid(rng *rand.Rand) string {
	h := hex(rng, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func hex(rng *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rng.IntN(16)]
	}
	return string(b)
}

func randomID(rng *rand.Rand, prefix string, n int) string {
	const chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := []byte(prefix)
	for len(b) < n {
		b = append(b, chars[rng.IntN(len(chars))])
	}
	return string(b)
}

// LoadAWS tells the simulated AWS Marketplace what this database already
// holds, as if AWS had sold it: every AWS subscription that is not over
// may be metered, each product meters the dimensions of its plans, and
// each contract holds the grants GetEntitlements last answered for it.
func LoadAWS(ctx context.Context, st *store.Store, m *awsfake.Metering, ents *awsfake.Entitlements) error {
	offers, err := st.OffersWithPlans(ctx, "aws")
	if err != nil {
		return err
	}
	for _, o := range offers {
		var dims []string
		for _, p := range o.Plans {
			for _, d := range p.DimensionList() {
				dims = append(dims, d.Key)
			}
		}
		if len(dims) > 0 {
			m.SetDimensions(o.MarketplaceID, dims...)
		}
	}
	subs, err := st.SubscriptionsInStates(ctx, "aws", []string{"pending", "active", "unsubscribe_pending"})
	if err != nil {
		return err
	}
	for _, s := range subs {
		m.Subscribe(awsfake.Identity{CustomerAWSAccountID: s.AWSCustomerAccountID, LicenseArn: s.AWSLicenseArn,
			CustomerIdentifier: s.AWSCustomerIdentifier, ProductCode: s.AWSProductCode})
	}
	if ents == nil {
		return nil
	}
	held, err := st.IntegerEntitlements(ctx)
	if err != nil {
		return err
	}
	bySub := map[uint][]awsfake.Entitlement{}
	for _, e := range held {
		g := awsfake.Entitlement{Dimension: e.Dimension}
		if e.IntegerValue != nil {
			g.Value = int32(min(max(*e.IntegerValue, 0), 1<<31-1))
		}
		if e.ExpiresAt != nil {
			g.Expiration = *e.ExpiresAt
		}
		bySub[e.SubscriptionID] = append(bySub[e.SubscriptionID], g)
	}
	owners, err := st.AWSSubscriptionsWithEntitlements(ctx)
	if err != nil {
		return err
	}
	for _, s := range owners {
		ents.Set(awsfake.Identity{CustomerAWSAccountID: s.AWSCustomerAccountID, LicenseArn: s.AWSLicenseArn,
			CustomerIdentifier: s.AWSCustomerIdentifier, ProductCode: s.AWSProductCode}, bySub[s.ID]...)
	}
	return nil
}

// LoadAWSAgreements tells the simulated Agreement Service the terms of every
// stored agreement (its start, and its free trial as read), so that
// GetAgreementTerms answers for agreements bought before a restart or made
// by the demo seed, as AWS would.
func LoadAWSAgreements(ctx context.Context, st *store.Store, f *awsfake.AgreementService) error {
	rows, err := st.SandboxAgreements(ctx)
	if err != nil {
		return err
	}
	for _, a := range rows {
		var start time.Time
		if a.StartsAt != nil {
			start = *a.StartsAt
		}
		days := 0
		if a.FreeTrialDays != nil {
			days = *a.FreeTrialDays
		}
		t := awsfake.DemoTerms(start, days, false, nil)
		if a.EndsAt != nil {
			t.End = *a.EndsAt
		}
		f.SetTerms(a.AgreementID, t)
		info := awsfake.AgreementInfo{AcceptorAccountID: a.AccountID, ProductID: a.ProductCode, OfferID: a.OfferID, PreviousID: a.PreviousAgreementID}
		if a.EndedAt != nil && a.Status != "" {
			info.Status = a.Status
		}
		f.SetAgreement(a.AgreementID, info)
		if a.AutoRenewal == "false" {
			// Turned off, as Amended said; the row does not keep by whom
			// (agreement_renewals does): the buyer, as in the demo.
			f.SetAutoRenew(a.AgreementID, false, false)
		}
	}
	return nil
}

// AzureOffers returns the Microsoft offers of the catalog as the simulated
// marketplace sells them.
func AzureOffers(ctx context.Context, st *store.Store) ([]azurefake.Offer, error) {
	offers, err := st.OffersWithPlans(ctx, "azure")
	if err != nil {
		return nil, err
	}
	out := make([]azurefake.Offer, 0, len(offers))
	for _, o := range offers {
		fo := azurefake.Offer{OfferID: o.MarketplaceID, Name: o.Name}
		for _, p := range o.Plans {
			fp := azurefake.Plan{PlanID: p.PlanID, DisplayName: p.Name, PerSeat: p.SeatBased, MinQuantity: p.MinQuantity, MaxQuantity: p.MaxQuantity}
			if fp.PerSeat && fp.MinQuantity == 0 {
				fp.MinQuantity = 1
			}
			if fp.PerSeat && fp.MaxQuantity == 0 {
				fp.MaxQuantity = 10000
			}
			for _, d := range p.DimensionList() {
				fp.Dimensions = append(fp.Dimensions, d.Key)
			}
			fo.Plans = append(fo.Plans, fp)
		}
		out = append(out, fo)
	}
	return out, nil
}

// ImportAzure gives the simulated Microsoft marketplace the Microsoft
// subscriptions this database holds (the demo data), so reconciliation,
// metering and the buyer page see the same subscriptions on both sides.
func ImportAzure(ctx context.Context, st *store.Store, mk *azurefake.Marketplace) error {
	subs, err := st.AzureSubscriptionsWithDetails(ctx)
	if err != nil {
		return err
	}
	status := map[string]string{"pending": azurefake.StatusPendingFulfillmentStart, "active": azurefake.StatusSubscribed,
		"suspended": azurefake.StatusSuspended, "ended": azurefake.StatusUnsubscribed}
	for _, s := range subs {
		ms, ok := status[s.State]
		if !ok || s.Offer == nil || s.Plan == nil {
			continue
		}
		party := azurefake.Party{TenantID: s.AzureTenantID}
		if s.Customer != nil {
			party.EmailID = s.Customer.Email
			if party.TenantID == "" {
				party.TenantID = s.Customer.AzureTenantID
			}
		}
		fs := azurefake.Subscription{ID: s.AzureSubscriptionID, OfferID: s.Offer.MarketplaceID, PlanID: s.Plan.PlanID, Name: s.Name,
			Status: ms, Quantity: s.Quantity, Purchaser: party, Beneficiary: party, AutoRenew: s.AutoRenew, IsTest: s.IsTest,
			IsFreeTrial: s.FreeTrial, Created: s.CreatedAt}
		if s.TermStart != nil {
			fs.StartDate = s.TermStart.UTC().Truncate(24 * time.Hour)
		}
		if s.TermEnd != nil {
			fs.EndDate = s.TermEnd.UTC().Truncate(24 * time.Hour)
		}
		if err := mk.Import(fs); err != nil {
			return err
		}
	}
	return nil
}
