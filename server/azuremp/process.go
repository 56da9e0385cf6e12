package azuremp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// Inbox and timeline sources (stored values: they keep their spelling).
const (
	SourceNotification = "azure_webhook" // Microsoft's notifications
	SourceLanding      = "azure_landing"
	SourcePortal       = "portal"
	SourceReconcile    = "reconcile"
)

// Operation tracking limits (reference §5.4).
const (
	pollFirst   = 5 * time.Second
	pollMax     = 60 * time.Second
	pollTimeout = time.Hour
)

// Processor applies what Microsoft says to the store: landings, notifications,
// operations and reconciliation.
type Processor struct {
	Store  *store.Store
	Log    *slog.Logger
	Client *Client
}

// marketplaceState maps Microsoft's status to the unified state.
func marketplaceState(status string) (lifecycle.State, bool) {
	switch strings.TrimSpace(status) {
	case StatusPending, StatusNotStarted:
		return lifecycle.Pending, true
	case StatusSubscribed:
		return lifecycle.Active, true
	case StatusSuspended:
		return lifecycle.Suspended, true
	case StatusUnsubscribed:
		return lifecycle.Ended, true
	}
	return "", false
}

// ensureCatalog returns our offer and plan for Microsoft's ids, adding
// them to the catalog when the marketplace names ones we do not know yet.
func ensureCatalog(tx *store.Tx, now time.Time, offerID, planID string) (*store.Offer, *store.Plan, error) {
	if offerID == "" {
		return nil, nil, nil
	}
	o, err := tx.AzureOffer(offerID)
	if errors.Is(err, store.ErrNotFound) {
		o = &store.Offer{Marketplace: "azure", Name: offerID, MarketplaceID: offerID, CreatedAt: now, UpdatedAt: now}
		err = tx.CreateAzureOffer(o)
	}
	if err != nil {
		return nil, nil, err
	}
	if planID == "" {
		return o, nil, nil
	}
	p, err := tx.AzurePlan(o.ID, planID)
	if errors.Is(err, store.ErrNotFound) {
		// Not learned from Microsoft (learnPlans could not ask): a flat
		// placeholder the seller must review.
		p = &store.Plan{OfferID: o.ID, PlanID: planID, Name: planID, Dimensions: "[]", ActivationPolicy: store.ActivateAutomatic,
			NeedsReview: true, CreatedAt: now, UpdatedAt: now}
		err = tx.CreateAzurePlan(p)
	}
	if err != nil {
		return nil, nil, err
	}
	return o, p, nil
}

// learnPlans adds the plans of an offer that the catalog does not know yet,
// in the shape Microsoft gives them (listAvailablePlans: display name,
// isPricePerSeat, metering dimensions), marked for the seller's review.
// It asks Microsoft only when one of planIDs is unknown here; when it
// cannot, ensureCatalog falls back to a placeholder, also marked.
func (p *Processor) learnPlans(ctx context.Context, msSubID, offerID string, planIDs ...string) {
	if offerID == "" || msSubID == "" {
		return
	}
	known, err := p.Store.Reads(ctx).AzurePlanIDs(offerID)
	if err != nil {
		p.Log.Warn("azure: reading the catalog", "offer", offerID, "err", err)
		return
	}
	if !anyUnknown(known, planIDs) {
		return
	}
	plans, err := p.Client.ListAvailablePlans(ctx, msSubID)
	if err != nil {
		p.Log.Warn("azure: listAvailablePlans for a plan not in the catalog", "offer", offerID, "err", err)
		return
	}
	now := p.Store.Now()
	err = p.Store.InTx(ctx, func(tx *store.Tx) error {
		o, _, err := ensureCatalog(tx, now, offerID, "")
		if err != nil || o == nil {
			return err
		}
		for _, ap := range plans {
			if ap.PlanID == "" || slices.Contains(known, ap.PlanID) {
				continue
			}
			pl := learnedPlan(o.ID, ap, now)
			if err := tx.AddAzurePlanOnce(&pl); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		p.Log.Warn("azure: storing plans learned from Microsoft", "offer", offerID, "err", err)
	}
}

// anyUnknown tells whether one of planIDs (empty ones aside) is not in known.
func anyUnknown(known, planIDs []string) bool {
	for _, id := range planIDs {
		if id != "" && !slices.Contains(known, id) {
			return true
		}
	}
	return false
}

// learnedPlan is a plan of Microsoft's listAvailablePlans in our catalog's
// shape, marked for the seller's review.
func learnedPlan(offerID uint, ap AvailablePlan, now time.Time) store.Plan {
	dims := []store.Dimension{}
	for _, d := range ap.PlanComponents.MeteringDimensions {
		if d.ID != "" {
			dims = append(dims, store.Dimension{Key: d.ID, Name: cmp.Or(d.DisplayName, d.ID), Unit: d.UnitOfMeasure})
		}
	}
	b, _ := json.Marshal(dims)
	return store.Plan{OfferID: offerID, PlanID: ap.PlanID, Name: cmp.Or(strings.TrimSpace(ap.DisplayName), ap.PlanID), SeatBased: ap.IsPricePerSeat,
		Dimensions: string(b), ActivationPolicy: store.ActivateAutomatic, NeedsReview: true, CreatedAt: now, UpdatedAt: now}
}

// ensureCustomer returns the customer of an Entra tenant, creating it.
func ensureCustomer(tx *store.Tx, now time.Time, tenantID, name, email string) (*store.Customer, error) {
	if tenantID == "" {
		return nil, nil
	}
	c, err := tx.AzureCustomer(tenantID)
	if errors.Is(err, store.ErrNotFound) {
		source := store.NameFromEmailDomain
		if name == "" {
			name, source = "Microsoft tenant "+tenantID, store.NameFromTenantID
		}
		c = &store.Customer{Name: name, NameSource: source, Email: email, AzureTenantID: tenantID, CreatedAt: now, UpdatedAt: now}
		err = tx.CreateAzureCustomer(c)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// record applies one event to the subscription with Microsoft's id,
// creating catalog entries and the customer as needed.
func record(tx *store.Tx, now time.Time, s Subscription, ev lifecycle.Event, meta subscriptions.Meta) (*store.Subscription, error) {
	offer, err := ensureEventCatalog(tx, now, s, ev)
	if err != nil {
		return nil, err
	}
	cust, err := ensureCustomer(tx, now, s.Beneficiary.TenantID, organisation(s), s.Beneficiary.EmailID)
	if err != nil {
		return nil, err
	}
	res, err := subscriptions.ApplyTx(tx, now, subscriptions.Ref{AzureSubscriptionID: s.ID}, ev, meta, func(sub *store.Subscription) {
		sub.Name = subscriptions.DisplayName(s.Name, nameOf(cust), nameOfOffer(offer))
		sub.AzureTenantID = s.Beneficiary.TenantID
		sub.IsTest, sub.FreeTrial, sub.AutoRenew = s.IsTest, s.IsFreeTrial, s.AutoRenew
		if offer != nil {
			sub.OfferID = &offer.ID
		}
		if cust != nil {
			sub.CustomerID = &cust.ID
		}
	})
	if err != nil {
		return nil, err
	}
	if res.Subscription == nil {
		return nil, fmt.Errorf("subscription %s is not known here yet", s.ID)
	}
	sub := res.Subscription
	upd := catchUp(sub, s, offer, cust)
	if len(upd) > 0 {
		upd["updated_at"] = now
		if err := tx.UpdateSubscription(sub.ID, 0, upd); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

func nameOf(c *store.Customer) string {
	if c == nil {
		return ""
	}
	return c.Name
}

func nameOfOffer(o *store.Offer) string {
	if o == nil {
		return ""
	}
	return o.Name
}

// ensureEventCatalog makes the catalog know the event's offer and plan, and
// the subscription's current plan when the event names another one.
func ensureEventCatalog(tx *store.Tx, now time.Time, s Subscription, ev lifecycle.Event) (*store.Offer, error) {
	offer, _, err := ensureCatalog(tx, now, s.OfferID, cmp.Or(ev.PlanID, s.PlanID))
	if err != nil {
		return nil, err
	}
	if ev.PlanID != "" && ev.PlanID != s.PlanID && s.OfferID != "" {
		if _, _, err := ensureCatalog(tx, now, s.OfferID, s.PlanID); err != nil {
			return nil, err
		}
	}
	return offer, nil
}

// catchUp lists the changes that bring an existing record up to what
// Microsoft says (customer, offer, tenant, name, term unit); it sets the
// term unit on sub too.
func catchUp(sub *store.Subscription, s Subscription, offer *store.Offer, cust *store.Customer) map[string]any {
	upd := map[string]any{}
	if sub.CustomerID == nil && cust != nil {
		upd["customer_id"] = cust.ID
	}
	if sub.OfferID == nil && offer != nil {
		upd["offer_id"] = offer.ID
	}
	if sub.AzureTenantID == "" && s.Beneficiary.TenantID != "" {
		upd["azure_tenant_id"] = s.Beneficiary.TenantID
	}
	if s.Name != "" && sub.Name != s.Name {
		upd["name"] = s.Name
	}
	// The term unit as Microsoft sends it, known to us or not (P1M … P5Y,
	// PAY, or a value added later): stored and shown, never refused.
	if u := strings.TrimSpace(s.Term.TermUnit); u != "" && sub.TermUnit != u && len(u) <= 32 {
		upd["term_unit"] = u
		sub.TermUnit = u
	}
	return upd
}

// organisation is what the fulfillment API lets us call the beneficiary's
// organisation until Microsoft Graph names it (see Land): the domain of
// its e-mail. Microsoft's subscription sends no organisation name
// (beneficiary and purchaser are {emailId, objectId, tenantId, puid}).
func organisation(s Subscription) string {
	if at := strings.LastIndex(s.Beneficiary.EmailID, "@"); at > 0 {
		return s.Beneficiary.EmailID[at+1:]
	}
	return ""
}

func term(s Subscription) (time.Time, time.Time) { return s.Term.StartDate.Time, s.Term.EndDate.Time }

// takeStatus moves our record to Microsoft's status when that is further
// along than pending and differs from ours (a subscription we first see
// live, through "Manage account" or a notification).
func takeStatus(tx *store.Tx, now time.Time, s Subscription, sub *store.Subscription, meta subscriptions.Meta) (*store.Subscription, error) {
	st, ok := marketplaceState(s.Status)
	if !ok || st == lifecycle.Pending || lifecycle.State(sub.State) == st {
		return sub, nil
	}
	start, end := term(s)
	meta.Note = "status at Microsoft: " + s.Status
	return record(tx, now, s, lifecycle.Event{Kind: lifecycle.Reconciled, At: now, Observed: st, PlanID: s.PlanID,
		Quantity: s.Quantity, TermStart: start, TermEnd: end}, meta)
}

// ensureKnown returns our id for a Microsoft subscription, recording it
// first when a notification arrives before the buyer's landing page (in
// Microsoft's current state, read with Get subscription).
func ensureKnown(tx *store.Tx, now time.Time, s Subscription, meta subscriptions.Meta) (uint, error) {
	if id, err := tx.AzureSubscriptionID(s.ID); err != nil || id != 0 {
		return id, err
	}
	start, end := term(s)
	m := meta
	m.Note = "first heard of through a webhook, before the landing page" // shown on the timeline as before
	got, err := record(tx, now, s, lifecycle.Event{Kind: lifecycle.AzureResolved, At: now, PlanID: s.PlanID, Quantity: s.Quantity,
		TermStart: start, TermEnd: end}, m)
	if err != nil {
		return 0, err
	}
	if got, err = takeStatus(tx, now, s, got, m); err != nil {
		return 0, err
	}
	return got.ID, nil
}
