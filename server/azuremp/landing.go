package azuremp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// Landed is what the landing page learned.
type Landed struct {
	Subscription *store.Subscription
	Resolved     Subscription
	Plan         *store.Plan
	Offer        *store.Offer
	Customer     *store.Customer
	// User is the signed-in buyer as customer admin of the beneficiary's
	// organisation; nil when they cannot be one (another tenant — a
	// procurement team, a reseller, a parent company — or their e-mail
	// belongs to another account).
	User *store.User
	// Purchaser: the signed-in person is not of the beneficiary's tenant.
	Purchaser bool
}

// Land resolves a purchase token for a signed-in buyer: the subscription is
// stored (pending until activated) and the buyer becomes the customer admin
// of their organisation when they belong to the beneficiary tenant.
// Whoever signed in with a valid token may see the purchase; the caller
// invites the beneficiary when no one of that organisation administers it.
func (p *Processor) Land(ctx context.Context, token string, who Identity) (*Landed, error) {
	r, err := p.Client.Resolve(ctx, token)
	if err != nil {
		return nil, err
	}
	s := r.Subscription
	p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID)
	// Microsoft's answer as it was sent (its own field names), and who signed in.
	raw := r.Raw
	if len(raw) == 0 || !json.Valid(raw) {
		raw, _ = json.Marshal(r)
	}
	body, _ := json.Marshal(struct {
		Resolved json.RawMessage `json:"resolved"`
		SignedIn Identity        `json:"signed_in"`
	}{raw, who})
	msg, _, err := p.Store.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "azure", Source: SourceLanding,
		DedupKey: "landing:" + NewGUID(), Action: "Resolve", ContentType: "application/json", Body: string(body)})
	if err != nil {
		return nil, err
	}
	now := p.Store.Now()
	out := &Landed{Resolved: s}
	err = p.Store.InTx(ctx, func(tx *store.Tx) error {
		start, end := term(s)
		meta := subscriptions.Meta{Source: SourceLanding, Actor: cmp.Or(who.Email, "buyer"), Payload: string(body), InboxID: &msg.ID}
		sub, err := record(tx, now, s, lifecycle.Event{Kind: lifecycle.AzureResolved, At: now, PlanID: s.PlanID, Quantity: s.Quantity,
			TermStart: start, TermEnd: end}, meta)
		if err != nil {
			return err
		}
		// The landing page also opens for a live subscription ("Manage account"):
		// take Microsoft's status as it is now.
		if sub, err = takeStatus(tx, now, s, sub, meta); err != nil {
			return err
		}
		if out.Subscription, err = tx.SubscriptionDetail(sub.ID); err != nil {
			return err
		}
		out.Offer, out.Plan, out.Customer = out.Subscription.Offer, out.Subscription.Plan, out.Subscription.Customer
		if out.Customer != nil && who.TenantID != "" && strings.EqualFold(who.TenantID, out.Customer.AzureTenantID) {
			if err := nameFromGraph(tx, now, out.Customer, who); err != nil {
				return err
			}
			u, err := ensureCustomerAdmin(tx, now, out.Customer.ID, out.Customer.AzureTenantID, who)
			if err != nil {
				return err
			}
			out.User = u
		} else {
			out.Purchaser = true
		}
		return nil
	})
	if err != nil {
		_ = p.Store.FinishInbox(ctx, msg.ID, store.InboxFailed, err.Error(), nil, nil)
		return nil, err
	}
	_ = p.Store.FinishInbox(ctx, msg.ID, store.InboxProcessed, "", &out.Subscription.ID, nil)
	return out, nil
}

// nameFromGraph names the customer after its tenant as Microsoft Graph
// calls it (GET /organization's displayName, read with the beneficiary's
// own sign-in), replacing a name that was only a guess (the e-mail domain,
// the tenant id); a name a person typed stays.
func nameFromGraph(tx *store.Tx, now time.Time, cust *store.Customer, who Identity) error {
	name := strings.TrimSpace(who.Organization)
	if name == "" || len(name) > 200 {
		return nil
	}
	changed, err := tx.SetCustomerName(cust.ID, name, store.NameFromGraph, now)
	if changed {
		cust.Name, cust.NameSource = name, store.NameFromGraph
	}
	return err
}

// ensureCustomerAdmin makes the signed-in buyer a customer admin of the
// customer, unless their e-mail already belongs to someone else's account.
// An account bound to an Entra object id is matched by that id (within the
// customer's tenant) only, never by e-mail: another identity of the tenant
// with the same email claim is not that person.
func ensureCustomerAdmin(tx *store.Tx, now time.Time, customerID uint, tenantID string, who Identity) (*store.User, error) {
	u, foreign, err := findBuyerAccount(tx, who)
	if err != nil || foreign {
		return nil, err
	}
	if u != nil {
		if !isOwnAdmin(u, customerID, tenantID, who) {
			return nil, nil // seller staff or another organisation's admin: not taken over
		}
		if u.EntraObjectID == "" && who.ObjectID != "" {
			if err := tx.BindEntraObjectID(u.ID, who.ObjectID); err != nil {
				return nil, err
			}
			u.EntraObjectID = who.ObjectID
		}
		return u, nil
	}
	if who.Email == "" {
		return nil, nil
	}
	u = &store.User{Email: store.NormalizeEmail(who.Email), Name: who.Name, Role: store.RoleCustomerAdmin, CustomerID: &customerID, EntraObjectID: who.ObjectID,
		CreatedAt: now, UpdatedAt: now}
	return u, tx.CreateEntraUser(u)
}

// findBuyerAccount finds the signed-in buyer's account: by Entra object id,
// else by e-mail. foreign is true when the e-mail's account is bound to
// another Entra identity.
func findBuyerAccount(tx *store.Tx, who Identity) (u *store.User, foreign bool, err error) {
	if who.ObjectID != "" {
		if u, err = tx.UserByEntraObjectID(who.ObjectID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
	}
	if u == nil && who.Email != "" {
		if u, err = tx.UserWithEmail(who.Email); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
		if u != nil && u.EntraObjectID != "" && !strings.EqualFold(u.EntraObjectID, who.ObjectID) {
			return nil, true, nil // bound to another Entra identity
		}
	}
	return u, false, nil
}

// isOwnAdmin tells whether an existing account is an enabled customer admin
// of this customer, signed in from the customer's tenant.
func isOwnAdmin(u *store.User, customerID uint, tenantID string, who Identity) bool {
	return u.Role == store.RoleCustomerAdmin && u.CustomerID != nil && *u.CustomerID == customerID && !u.Disabled &&
		strings.EqualFold(who.TenantID, tenantID)
}

// ErrNotPending: only a pending subscription can be activated.
var ErrNotPending = errors.New("the subscription is not waiting for activation")

// ErrNeedsSellerApproval: the plan's policy lets only the seller activate.
var ErrNeedsSellerApproval = errors.New("the seller approves new subscriptions of this plan")

// MayActivate reports whether the buyer's side (the landing page, the
// buyer's Activate button) may activate a subscription on this plan; the
// seller may always. Every activation path asks it on the server.
func MayActivate(pl *store.Plan, source string) bool {
	if source == SourcePortal {
		return true
	}
	return pl != nil && (pl.ActivationPolicy == store.ActivateAutomatic || pl.ActivationPolicy == store.ActivateBuyerConfirms)
}

// Activate activates a pending Microsoft subscription with the marketplace
// and records it, with the term Microsoft reports right after. A second
// call (double click, reload, a seller and a buyer at once) finds it
// active and does nothing. source says who asks: SourcePortal (the seller)
// or SourceLanding (the buyer), checked against the plan's policy.
func (p *Processor) Activate(ctx context.Context, subID uint, actor, source string) (*store.Subscription, error) {
	sub, err := p.Store.Reads(ctx).SubscriptionDetail(subID)
	if err != nil {
		return nil, err
	}
	if sub.Marketplace != "azure" {
		return nil, errors.New("not a Microsoft subscription")
	}
	if sub.State == string(lifecycle.Active) {
		return sub, nil
	}
	if sub.State != string(lifecycle.Pending) || sub.Plan == nil {
		return nil, ErrNotPending
	}
	if !MayActivate(sub.Plan, source) {
		return nil, ErrNeedsSellerApproval
	}
	// Activate with the plan and quantity Microsoft holds: a quantity only
	// when Microsoft's subscription has one (per-seat plans, §4.2), whatever
	// our catalog says about the plan.
	ms, err := p.Client.Get(ctx, sub.AzureSubscriptionID)
	if err != nil {
		return nil, err
	}
	planID := cmp.Or(ms.PlanID, sub.Plan.PlanID)
	if err := p.Client.Activate(ctx, sub.AzureSubscriptionID, planID, ms.Quantity, ms.Quantity > 0); err != nil {
		return nil, err
	}
	ev := lifecycle.Event{Kind: lifecycle.AzureActivated}
	unit := ""
	// Read it back: the term starts at activation (§3), shown at once.
	if after, err := p.Client.Get(ctx, sub.AzureSubscriptionID); err == nil {
		ev.TermStart, ev.TermEnd = term(after)
		unit = after.Term.TermUnit
	} else {
		p.Log.Warn("azure: reading the subscription back after activation", "subscription", sub.ID, "err", err)
	}
	res, err := subscriptions.Apply(ctx, p.Store, subscriptions.Ref{ID: sub.ID}, ev, subscriptions.Meta{Source: source, Actor: actor}, nil)
	if err != nil {
		return nil, err
	}
	if unit != "" && unit != res.Subscription.TermUnit {
		if err := p.Store.Writes(ctx).UpdateSubscription(sub.ID, 0, map[string]any{"term_unit": unit}); err != nil {
			return nil, err
		}
		res.Subscription.TermUnit = unit
	}
	return res.Subscription, nil
}
