package azuremp

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// Inbox and timeline sources.
const (
	SourceWebhook   = "azure_webhook"
	SourceLanding   = "azure_landing"
	SourcePortal    = "portal"
	SourceReconcile = "reconcile"
)

// Operation tracking limits (reference §5.4).
const (
	pollFirst   = 5 * time.Second
	pollMax     = 60 * time.Second
	pollTimeout = time.Hour
)

// Processor applies what Microsoft says to the store: landings, webhooks,
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
	missing := false
	for _, id := range planIDs {
		missing = missing || (id != "" && !slices.Contains(known, id))
	}
	if !missing {
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
			dims := []store.Dimension{}
			for _, d := range ap.PlanComponents.MeteringDimensions {
				if d.ID != "" {
					dims = append(dims, store.Dimension{Key: d.ID, Name: cmp.Or(d.DisplayName, d.ID), Unit: d.UnitOfMeasure})
				}
			}
			b, _ := json.Marshal(dims)
			pl := store.Plan{OfferID: o.ID, PlanID: ap.PlanID, Name: cmp.Or(strings.TrimSpace(ap.DisplayName), ap.PlanID), SeatBased: ap.IsPricePerSeat,
				Dimensions: string(b), ActivationPolicy: store.ActivateAutomatic, NeedsReview: true, CreatedAt: now, UpdatedAt: now}
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

// ensureCustomer returns the customer of an Entra tenant, creating it.
func ensureCustomer(tx *store.Tx, now time.Time, tenantID, name, email string) (*store.Customer, error) {
	if tenantID == "" {
		return nil, nil
	}
	c, err := tx.AzureCustomer(tenantID)
	if errors.Is(err, store.ErrNotFound) {
		if name == "" {
			name = "Microsoft tenant " + tenantID
		}
		c = &store.Customer{Name: name, Email: email, AzureTenantID: tenantID, CreatedAt: now, UpdatedAt: now}
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
	offer, _, err := ensureCatalog(tx, now, s.OfferID, cmp.Or(ev.PlanID, s.PlanID))
	if err != nil {
		return nil, err
	}
	if ev.PlanID != "" && ev.PlanID != s.PlanID && s.OfferID != "" {
		if _, _, err := ensureCatalog(tx, now, s.OfferID, s.PlanID); err != nil {
			return nil, err
		}
	}
	cust, err := ensureCustomer(tx, now, s.Beneficiary.TenantID, organisation(s), s.Beneficiary.EmailID)
	if err != nil {
		return nil, err
	}
	res, err := subscriptions.ApplyIn(tx, now, subscriptions.Ref{AzureSubscriptionID: s.ID}, ev, meta, func(sub *store.Subscription) {
		sub.Name = s.Name
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
	if len(upd) > 0 {
		upd["updated_at"] = now
		if err := tx.UpdateSubscription(sub.ID, 0, upd); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

func organisation(s Subscription) string {
	if at := strings.LastIndex(s.Beneficiary.EmailID, "@"); at > 0 {
		return s.Beneficiary.EmailID[at+1:]
	}
	return ""
}

func term(s Subscription) (time.Time, time.Time) { return s.Term.StartDate.Time, s.Term.EndDate.Time }

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

// ensureCustomerAdmin makes the signed-in buyer a customer admin of the
// customer, unless their e-mail already belongs to someone else's account.
// An account bound to an Entra object id is matched by that id (within the
// customer's tenant) only, never by e-mail: another identity of the tenant
// with the same email claim is not that person.
func ensureCustomerAdmin(tx *store.Tx, now time.Time, customerID uint, tenantID string, who Identity) (*store.User, error) {
	var u *store.User
	var err error
	if who.ObjectID != "" {
		if u, err = tx.UserByEntraObjectID(who.ObjectID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if u == nil && who.Email != "" {
		if u, err = tx.UserWithEmail(who.Email); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if u != nil && u.EntraObjectID != "" && !strings.EqualFold(u.EntraObjectID, who.ObjectID) {
			return nil, nil // bound to another Entra identity
		}
	}
	if u != nil {
		if u.Role != store.RoleCustomerAdmin || u.CustomerID == nil || *u.CustomerID != customerID || u.Disabled ||
			!strings.EqualFold(who.TenantID, tenantID) {
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

// ParseWebhook reads a webhook body.
func ParseWebhook(body []byte) (Operation, error) {
	var op Operation
	if err := json.Unmarshal(body, &op); err != nil {
		return op, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	if op.ID == "" || op.SubscriptionID == "" || op.Action == "" {
		return op, errors.New("a webhook call needs id, subscriptionId and action")
	}
	return op, nil
}

// WebhookAnswer is what to answer Microsoft.
type WebhookAnswer struct {
	Status  int
	Message string
	InboxID uint
	New     bool // first delivery: process it (after answering)
}

// callKey is the dedup key of one webhook call before Get Operation has
// confirmed it: its exact bytes. Only a confirmed operation claims "op:"+id
// (claimOperation), so a forged call that reuses a genuine operation id
// cannot suppress Microsoft's own delivery (reference §6.3, §6.4).
func callKey(body []byte) string {
	h := sha256.Sum256(body)
	return "call:" + hex.EncodeToString(h[:])
}

func operationKey(opID string) string { return "op:" + opID }

// answerOf is what a stored call was answered; a redelivery gets the same.
// Calls stored before answers were kept: 400 for a refused change, else 200.
func answerOf(m *store.InboxMessage) WebhookAnswer {
	switch {
	case m.AnswerStatus != 0:
		return WebhookAnswer{Status: m.AnswerStatus, Message: m.AnswerBody, InboxID: m.ID}
	case strings.HasPrefix(m.Error, policyRejected):
		return WebhookAnswer{Status: http.StatusBadRequest, Message: strings.TrimPrefix(m.Error, policyRejected), InboxID: m.ID}
	}
	return WebhookAnswer{Status: http.StatusOK, InboxID: m.ID}
}

// ReceiveWebhook stores an authenticated webhook call in the inbox and
// decides a customer's plan or quantity change by the plan's policy: a
// rejection is answered 400, which fails the operation. A redelivery (the
// operation already confirmed, or the same call byte for byte) is answered
// what the first delivery was answered, and changes nothing.
func (p *Processor) ReceiveWebhook(ctx context.Context, body []byte, headers string) (WebhookAnswer, error) {
	op, err := ParseWebhook(body)
	if err != nil {
		return WebhookAnswer{Status: http.StatusBadRequest, Message: err.Error()}, nil
	}
	for _, key := range []string{operationKey(op.ID), callKey(body)} {
		prior, err := p.Store.Reads(ctx).InboxByKey(SourceWebhook, key)
		if err == nil {
			return answerOf(prior), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return WebhookAnswer{}, err
		}
	}
	ans := WebhookAnswer{Status: http.StatusOK}
	if (op.Action == "ChangePlan" || op.Action == "ChangeQuantity") && !strings.EqualFold(op.Source, "Partner") &&
		!strings.EqualFold(op.Status, "Succeeded") {
		if reason := p.policy(ctx, op); reason != "" {
			ans = WebhookAnswer{Status: http.StatusBadRequest, Message: reason}
		}
	}
	m := &store.InboxMessage{Marketplace: "azure", Source: SourceWebhook, DedupKey: callKey(body), Action: op.Action,
		ContentType: "application/json", Body: string(body), Headers: headers, AnswerStatus: ans.Status, AnswerBody: ans.Message}
	if ans.Status != http.StatusOK {
		m.Error = policyRejected + ans.Message
	}
	msg, isNew, err := p.Store.ReceiveInbox(ctx, m)
	if err != nil {
		return WebhookAnswer{}, err
	}
	if !isNew {
		return answerOf(msg), nil // the same call, stored meanwhile
	}
	ans.InboxID, ans.New = msg.ID, true
	return ans, nil
}

// policyRejected prefixes the stored reason of a customer change the plan refused.
const policyRejected = "rejected: "

// RejectedByPolicy reports whether a stored webhook call was refused by
// the plan's policy when it arrived.
func RejectedByPolicy(m *store.InboxMessage) bool {
	return m.Source == SourceWebhook && (m.AnswerStatus == http.StatusBadRequest || strings.HasPrefix(m.Error, policyRejected))
}

// RejectionReason is the reason a refused customer change was given.
func RejectionReason(m *store.InboxMessage) string {
	return answerOf(m).Message
}

// policy says why a customer's change must be rejected ("" to accept).
func (p *Processor) policy(ctx context.Context, op Operation) string {
	sub, err := p.Store.Reads(ctx).AzureSubscription(op.SubscriptionID)
	if err != nil {
		return "" // unknown here: accept; the landing page or reconciliation will record it
	}
	pl := sub.Plan
	if pl == nil {
		return ""
	}
	switch op.Action {
	case "ChangePlan":
		if pl.RejectPlanChange {
			return fmt.Sprintf("plan %s cannot be changed by the customer; contact the seller", pl.PlanID)
		}
	case "ChangeQuantity":
		if pl.RejectQuantityChange {
			return fmt.Sprintf("the seat count of plan %s cannot be changed by the customer; contact the seller", pl.PlanID)
		}
		if pl.MinQuantity > 0 && op.Quantity > 0 && op.Quantity < pl.MinQuantity {
			return fmt.Sprintf("plan %s needs at least %d seats", pl.PlanID, pl.MinQuantity)
		}
		if pl.MaxQuantity > 0 && op.Quantity > pl.MaxQuantity {
			return fmt.Sprintf("plan %s allows at most %d seats", pl.PlanID, pl.MaxQuantity)
		}
	}
	return ""
}

// ProcessWebhook confirms a stored webhook call with Get Operation and acts
// on what Microsoft says, never on the payload alone. Only a confirmed
// call claims its operation id and touches the subscription; an
// unconfirmed one is marked rejected_unverified and writes nothing else.
func (p *Processor) ProcessWebhook(ctx context.Context, m *store.InboxMessage) error {
	call, err := ParseWebhook([]byte(m.Body))
	if err != nil {
		return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, nil)
	}
	rejected := RejectedByPolicy(m)
	op, err := p.Client.GetOperation(ctx, call.SubscriptionID, call.ID)
	if StatusOf(err) == http.StatusNotFound || (err == nil && (!strings.EqualFold(op.SubscriptionID, call.SubscriptionID) ||
		!strings.EqualFold(op.Action, call.Action))) {
		p.Log.Warn("azure webhook not confirmed by Get Operation", "inbox_id", m.ID, "operation", call.ID)
		if rejected {
			// Keep the refusal on the message: it must never be replayed as an approval.
			return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, policyRejected+RejectionReason(m)+" (rejected_unverified: Get Operation does not confirm this call)", nil, nil)
		}
		return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, "rejected_unverified: Get Operation does not confirm this call", nil, nil)
	}
	if err != nil {
		if rejected {
			return p.retryRejected(ctx, m, err)
		}
		return p.retryLater(ctx, m, err)
	}
	if op.SubscriptionID == "" {
		op.SubscriptionID = call.SubscriptionID
	}
	dup, err := p.claimOperation(ctx, m, call.ID)
	if err != nil {
		if rejected {
			return p.retryRejected(ctx, m, err)
		}
		return p.retryLater(ctx, m, err)
	}
	if dup != 0 {
		// Another delivery of this operation (a retry with a different body) was confirmed first.
		reason := fmt.Sprintf("duplicate of inbox message %d (the same operation)", dup)
		if rejected {
			reason = policyRejected + RejectionReason(m) + "; " + reason
		}
		return p.Store.FinishInbox(ctx, m.ID, store.InboxIgnored, reason, nil, nil)
	}
	at := op.TimeStamp
	if at.IsZero() {
		at = call.TimeStamp
	}
	meta := subscriptions.Meta{Source: SourceWebhook, Actor: "azure", Payload: m.Body, InboxID: &m.ID}
	if rejected {
		return p.noteRejected(ctx, m, call, at, meta)
	}
	subID, status, reason, err := p.act(ctx, op, at, meta)
	if err != nil {
		return p.retryLater(ctx, m, err)
	}
	return p.Store.FinishInbox(ctx, m.ID, status, reason, subID, nil)
}

// claimOperation makes a confirmed call the one delivery of its operation:
// its dedup key becomes "op:"+id. It returns the id of the message that
// claimed the operation before (0 when this one did).
func (p *Processor) claimOperation(ctx context.Context, m *store.InboxMessage, opID string) (uint, error) {
	key := operationKey(opID)
	if m.DedupKey == key {
		return 0, nil // claimed before (a replay)
	}
	other := func() (uint, error) { return p.Store.Writes(ctx).InboxIDWithKey(SourceWebhook, key, m.ID) }
	if id, err := other(); err != nil || id != 0 {
		return id, err
	}
	if err := p.Store.Writes(ctx).SetInboxKey(m.ID, key); err != nil {
		if id, oerr := other(); oerr == nil && id != 0 {
			return id, nil // claimed meanwhile by a concurrent delivery (unique index)
		}
		return 0, err
	}
	m.DedupKey = key
	return 0, nil
}

// noteRejected records a refused customer change, once Get Operation has
// confirmed it, on the subscription's timeline. Nothing is sent to
// Microsoft: the 400 answer already failed the operation.
func (p *Processor) noteRejected(ctx context.Context, m *store.InboxMessage, call Operation, at time.Time, meta subscriptions.Meta) error {
	reason := RejectionReason(m)
	subID, err := p.Store.Reads(ctx).AzureSubscriptionID(call.SubscriptionID)
	if err != nil {
		return p.retryRejected(ctx, m, err)
	}
	if subID != 0 {
		if err := p.Store.InTx(ctx, func(tx *store.Tx) error {
			return subscriptions.NoteIn(tx, p.Store.Now(), subID, "azure.change_rejected", at, "Customer's "+call.Action+" rejected: "+reason, meta)
		}); err != nil {
			return p.retryRejected(ctx, m, err)
		}
		return p.Store.FinishInbox(ctx, m.ID, store.InboxProcessed, policyRejected+reason, &subID, nil)
	}
	return p.Store.FinishInbox(ctx, m.ID, store.InboxProcessed, policyRejected+reason, nil, nil)
}

// retryRejected keeps a refused change for another confirmation attempt,
// with its refusal kept in the error text.
func (p *Processor) retryRejected(ctx context.Context, m *store.InboxMessage, err error) error {
	retry := p.Store.Now().Add(time.Minute << min(m.Attempts, 6))
	p.Log.Warn("azure refused change: confirmation failed", "inbox_id", m.ID, "err", err, "retry_at", retry)
	return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, policyRejected+RejectionReason(m), nil, &retry)
}

// act applies a confirmed operation.
func (p *Processor) act(ctx context.Context, op Operation, at time.Time, meta subscriptions.Meta) (*uint, string, string, error) {
	now := p.Store.Now()
	sub := func() (Subscription, error) {
		s, err := p.Client.Get(ctx, op.SubscriptionID)
		if err == nil {
			p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID, op.PlanID)
		}
		return s, err
	}
	apply := func(s Subscription, ev lifecycle.Event) (*uint, error) {
		var id uint
		err := p.Store.InTx(ctx, func(tx *store.Tx) error {
			if _, err := ensureKnown(tx, now, s, meta); err != nil {
				return err
			}
			got, err := record(tx, now, s, ev, meta)
			if got != nil {
				id = got.ID
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return &id, nil
	}
	switch op.Action {
	case "ChangePlan", "ChangeQuantity":
		s, err := sub()
		if err != nil {
			return nil, "", "", err
		}
		var subID uint
		if err := p.Store.InTx(ctx, func(tx *store.Tx) error {
			id, err := ensureKnown(tx, now, s, meta)
			if err != nil {
				return err
			}
			subID = id
			return track(tx, now, id, op, "azure")
		}); err != nil {
			return nil, "", "", err
		}
		if strings.EqualFold(op.Status, "InProgress") && !strings.EqualFold(op.Source, "Partner") {
			// The policy again, on Microsoft's own operation (Get Operation),
			// not the payload the call carried: a call whose payload passed
			// must not approve a change the plan refuses.
			if reason := p.policy(ctx, op); reason != "" {
				if err := p.Client.UpdateOperation(ctx, op.SubscriptionID, op.ID, false); err != nil && StatusOf(err) != http.StatusNotFound {
					return nil, "", "", err
				}
				err := p.Store.InTx(ctx, func(tx *store.Tx) error {
					if err := finishTracked(tx, op.ID, "Failed", reason); err != nil {
						return err
					}
					return subscriptions.NoteIn(tx, now, subID, "azure.change_rejected", at, "Customer's "+op.Action+" rejected: "+reason, meta)
				})
				if err != nil {
					return nil, "", "", err
				}
				return &subID, store.InboxProcessed, policyRejected + reason, nil
			}
			// Accepted by policy: say so now, then apply it when the
			// operation has succeeded.
			if err := p.Client.UpdateOperation(ctx, op.SubscriptionID, op.ID, true); err != nil && StatusOf(err) != http.StatusNotFound {
				return nil, "", "", err
			}
		}
		if strings.EqualFold(op.Status, "Succeeded") {
			if err := p.finishOperation(ctx, op, at); err != nil {
				return nil, "", "", err
			}
		}
		return &subID, store.InboxProcessed, "", nil
	case "Renew":
		s, err := sub()
		if err != nil {
			return nil, "", "", err
		}
		start, end := term(s)
		id, err := apply(s, lifecycle.Event{Kind: lifecycle.AzureRenew, At: at, TermStart: start, TermEnd: end})
		return id, store.InboxProcessed, "", err
	case "Suspend", "Reinstate", "Unsubscribe":
		s, err := sub()
		if err != nil {
			return nil, "", "", err
		}
		kind := map[string]lifecycle.Kind{"Suspend": lifecycle.AzureSuspend, "Reinstate": lifecycle.AzureReinstate, "Unsubscribe": lifecycle.AzureUnsubscribe}[op.Action]
		start, end := term(s)
		if op.Action == "Reinstate" && strings.EqualFold(op.Status, "InProgress") {
			if err := p.Client.UpdateOperation(ctx, op.SubscriptionID, op.ID, true); err != nil {
				p.Log.Warn("azure reinstate acknowledgement", "operation", op.ID, "err", err) // tolerated (reference §6.1)
			}
		}
		id, err := apply(s, lifecycle.Event{Kind: kind, At: at, TermStart: start, TermEnd: end})
		if err == nil {
			_ = p.Store.InTx(ctx, func(tx *store.Tx) error { return finishTracked(tx, op.ID, "Succeeded", "") })
		}
		return id, store.InboxProcessed, "", err
	case "Subscribe":
		s, err := sub()
		if err != nil {
			return nil, "", "", err
		}
		id, _, err := p.reconcileOne(ctx, s, meta)
		return id, store.InboxProcessed, "", err
	}
	return nil, store.InboxIgnored, fmt.Sprintf("action %q changes nothing here", op.Action), nil
}

// takeStatus moves our record to Microsoft's status when that is further
// along than pending and differs from ours (a subscription we first see
// live, through "Manage account" or a webhook).
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
// first when a webhook arrives before the buyer's landing page (in
// Microsoft's current state, read with Get subscription).
func ensureKnown(tx *store.Tx, now time.Time, s Subscription, meta subscriptions.Meta) (uint, error) {
	if id, err := tx.AzureSubscriptionID(s.ID); err != nil || id != 0 {
		return id, err
	}
	start, end := term(s)
	m := meta
	m.Note = "first heard of through a webhook, before the landing page"
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

// track starts following an operation (once).
func track(tx *store.Tx, now time.Time, subID uint, op Operation, by string) error {
	if known, err := tx.AzureOperationKnown(op.ID); err != nil || known {
		return err
	}
	next := now.Add(pollFirst)
	return tx.CreateAzureOperation(&store.AzureOperation{SubscriptionID: subID, OperationID: op.ID, Action: op.Action, Source: cmp.Or(op.Source, "Azure"),
		PlanID: op.PlanID, Quantity: op.Quantity, Status: cmp.Or(op.Status, "InProgress"), RequestedBy: by, NextPollAt: &next,
		CreatedAt: now, UpdatedAt: now})
}

// finishTracked closes a followed operation with its final status.
func finishTracked(tx *store.Tx, opID, status, message string) error {
	_, err := tx.FinishAzureOperation(opID, status, message)
	return err
}

// finishOperation applies a succeeded operation (once) and closes it.
func (p *Processor) finishOperation(ctx context.Context, op Operation, at time.Time) error {
	now := p.Store.Now()
	s, err := p.Client.Get(ctx, op.SubscriptionID)
	if err != nil {
		return err
	}
	p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID, op.PlanID)
	var ev lifecycle.Event
	note := "operation " + op.ID
	start, end := term(s) // read back after the change: the term is current at once
	switch op.Action {
	case "ChangePlan":
		ev = lifecycle.Event{Kind: lifecycle.AzureChangePlan, At: at, PlanID: cmp.Or(op.PlanID, s.PlanID), Quantity: op.Quantity, TermStart: start, TermEnd: end}
	case "ChangeQuantity":
		ev = lifecycle.Event{Kind: lifecycle.AzureChangeQuantity, At: at, Quantity: max(op.Quantity, s.Quantity), TermStart: start, TermEnd: end}
		if op.Quantity > 0 {
			ev.Quantity = op.Quantity
		}
	case "Unsubscribe":
		ev = lifecycle.Event{Kind: lifecycle.AzureUnsubscribe, At: at}
	default:
		ev = lifecycle.Event{Kind: lifecycle.Reconciled, At: at}
		if st, ok := marketplaceState(s.Status); ok {
			ev.Observed = st
		} else {
			return p.Store.InTx(ctx, func(tx *store.Tx) error { return finishTracked(tx, op.ID, "Succeeded", "") })
		}
	}
	return p.Store.InTx(ctx, func(tx *store.Tx) error {
		// Claim the operation: the webhook and the poller may both see it
		// succeed; the row lock lets exactly one of them apply it.
		claimed, err := tx.FinishAzureOperation(op.ID, "Succeeded", "")
		if err != nil {
			return err
		}
		if !claimed {
			if known, err := tx.AzureOperationKnown(op.ID); err != nil || known {
				return err // finished before: applied then
			}
		}
		_, err = record(tx, now, s, ev, subscriptions.Meta{Source: SourceWebhook, Actor: "azure", Note: note})
		return err
	})
}

// PollOperations follows the operations that are still running: every 5 s
// at first, backing off to 60 s, for at most an hour.
func (p *Processor) PollOperations(ctx context.Context) {
	now := p.Store.Now()
	due, err := p.Store.Reads(ctx).DueAzureOperations(now, 50)
	if err != nil {
		p.Log.Error("azure operations", "err", err)
		return
	}
	for _, t := range due {
		sub, err := p.Store.GetSubscription(ctx, t.SubscriptionID)
		if err != nil {
			continue
		}
		op, err := p.Client.GetOperation(ctx, sub.AzureSubscriptionID, t.OperationID)
		if err == nil {
			if op.SubscriptionID == "" {
				op.SubscriptionID = sub.AzureSubscriptionID
			}
			if op.Action == "" {
				op.Action = t.Action
			}
			switch strings.TrimSpace(op.Status) {
			case "Succeeded":
				err = p.finishOperation(ctx, op, timeOr(op.TimeStamp, now))
				if err == nil {
					continue
				}
			case "Failed", "Conflict":
				msg := cmp.Or(op.ErrorMessage, op.ErrorStatus, op.Status)
				_ = p.Store.InTx(ctx, func(tx *store.Tx) error {
					if err := finishTracked(tx, t.OperationID, op.Status, msg); err != nil {
						return err
					}
					return subscriptions.NoteIn(tx, now, t.SubscriptionID, "azure.operation_failed", now,
						fmt.Sprintf("%s %s at Microsoft: %s", t.Action, strings.ToLower(op.Status), msg), subscriptions.Meta{Source: SourcePortal, Actor: "azure"})
				})
				continue
			}
		}
		if err != nil {
			p.Log.Warn("azure operation poll", "operation", t.OperationID, "err", err)
		}
		if now.Sub(t.CreatedAt) > pollTimeout {
			_ = p.Store.InTx(ctx, func(tx *store.Tx) error {
				if err := finishTracked(tx, t.OperationID, "TimedOut", "no final status from Microsoft within an hour"); err != nil {
					return err
				}
				return subscriptions.NoteIn(tx, now, t.SubscriptionID, "azure.operation_failed", now,
					t.Action+" timed out: Microsoft gave no final status within an hour", subscriptions.Meta{Source: SourcePortal, Actor: "system"})
			})
			continue
		}
		wait := pollFirst << min(t.Attempts, 4)
		if wait > pollMax {
			wait = pollMax
		}
		next := now.Add(wait)
		_ = p.Store.Writes(ctx).PollAzureOperationLater(t.ID, t.Attempts+1, cmp.Or(op.Status, t.Status), next)
	}
}

func timeOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func (p *Processor) retryLater(ctx context.Context, m *store.InboxMessage, err error) error {
	d := time.Minute << min(m.Attempts, 6)
	retry := p.Store.Now().Add(d)
	p.Log.Error("azure webhook failed to apply", "inbox_id", m.ID, "err", err, "retry_at", retry)
	if ferr := p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, &retry); ferr != nil {
		return ferr
	}
	return err
}

// RetryDue processes the webhook calls whose retry time has come.
func (p *Processor) RetryDue(ctx context.Context) {
	due, err := p.Store.DueInbox(ctx, SourceWebhook, 50)
	if err != nil {
		p.Log.Error("azure inbox retry", "err", err)
		return
	}
	for i := range due {
		_ = p.ProcessWebhook(ctx, &due[i])
	}
}

// ErrInvalidChange: a publisher change the marketplace would refuse.
var ErrInvalidChange = errors.New("invalid change")

// StartChange asks Microsoft for a plan change, a quantity change or a
// cancellation of one of our subscriptions and follows the operation.
func (p *Processor) StartChange(ctx context.Context, subID uint, action, planID string, quantity int, actor string) (*store.AzureOperation, error) {
	sub, err := p.Store.Reads(ctx).SubscriptionDetail(subID)
	if err != nil {
		return nil, err
	}
	if sub.Marketplace != "azure" {
		return nil, fmt.Errorf("%w: not a Microsoft subscription", ErrInvalidChange)
	}
	if sub.State != string(lifecycle.Active) && !(action == "Unsubscribe" && sub.State == string(lifecycle.Suspended)) {
		return nil, fmt.Errorf("%w: the subscription is %s", ErrInvalidChange, sub.State)
	}
	var opID string
	switch action {
	case "ChangePlan":
		if sub.Plan != nil && sub.Plan.PlanID == planID {
			return nil, fmt.Errorf("%w: the subscription is already on plan %s", ErrInvalidChange, planID)
		}
		plans, perr := p.Client.ListAvailablePlans(ctx, sub.AzureSubscriptionID)
		if perr != nil {
			return nil, perr
		}
		ok := false
		for _, pl := range plans {
			ok = ok || pl.PlanID == planID
		}
		if !ok {
			return nil, fmt.Errorf("%w: plan %s is not offered to this customer", ErrInvalidChange, planID)
		}
		opID, err = p.Client.ChangePlan(ctx, sub.AzureSubscriptionID, planID)
	case "ChangeQuantity":
		if quantity <= 0 || quantity == sub.Quantity {
			return nil, fmt.Errorf("%w: the new quantity must be positive and differ from %d", ErrInvalidChange, sub.Quantity)
		}
		opID, err = p.Client.ChangeQuantity(ctx, sub.AzureSubscriptionID, quantity)
	case "Unsubscribe":
		opID, err = p.Client.Unsubscribe(ctx, sub.AzureSubscriptionID)
	default:
		return nil, fmt.Errorf("%w: unknown action %q", ErrInvalidChange, action)
	}
	if err != nil {
		return nil, err
	}
	now := p.Store.Now()
	var t *store.AzureOperation
	err = p.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := track(tx, now, sub.ID, Operation{ID: opID, Action: action, Source: "Partner", PlanID: planID, Quantity: quantity, Status: "InProgress"}, actor); err != nil {
			return err
		}
		summary := map[string]string{"ChangePlan": "Plan change to " + planID, "ChangeQuantity": fmt.Sprintf("Quantity change to %d", quantity),
			"Unsubscribe": "Cancellation"}[action] + " requested at Microsoft"
		if err := subscriptions.NoteIn(tx, now, sub.ID, "azure.operation_started", now, summary, subscriptions.Meta{Source: SourcePortal, Actor: actor}); err != nil {
			return err
		}
		t, err = tx.AzureOperationByID(opID)
		return err
	})
	return t, err
}

// reconcileOne brings our record of one subscription in line with
// Microsoft's; it returns our id and whether anything was repaired.
func (p *Processor) reconcileOne(ctx context.Context, s Subscription, meta subscriptions.Meta) (*uint, bool, error) {
	st, ok := marketplaceState(s.Status)
	if !ok {
		return nil, false, nil
	}
	p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID)
	repaired := false
	now := p.Store.Now()
	start, end := term(s)
	var id uint
	err := p.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.AzureSubscription(s.ID)
		if errors.Is(err, store.ErrNotFound) {
			cur, err = &store.Subscription{}, nil
		}
		if err != nil {
			return err
		}
		var drift []string
		if cur.ID == 0 {
			drift = append(drift, "not known here")
		} else {
			if cur.State != string(st) {
				drift = append(drift, "state "+cur.State+" → "+string(st))
			}
			if s.PlanID != "" && (cur.Plan == nil || cur.Plan.PlanID != s.PlanID) {
				drift = append(drift, "plan → "+s.PlanID)
			}
			if s.Quantity > 0 && cur.Quantity != s.Quantity {
				drift = append(drift, fmt.Sprintf("quantity %d → %d", cur.Quantity, s.Quantity))
			}
			// Microsoft's term dates are dates: compare the days.
			if (st == lifecycle.Active || st == lifecycle.Suspended) && !end.IsZero() && (cur.TermEnd == nil || !sameDay(*cur.TermEnd, end)) {
				drift = append(drift, "term end → "+end.Format("2006-01-02"))
			}
		}
		if len(drift) == 0 {
			id = cur.ID
			return nil
		}
		repaired = true
		if cur.ID == 0 {
			if _, err := record(tx, now, s, lifecycle.Event{Kind: lifecycle.AzureResolved, At: now, PlanID: s.PlanID, Quantity: s.Quantity,
				TermStart: start, TermEnd: end}, meta); err != nil {
				return err
			}
		}
		m := meta
		m.Note = "repaired: " + strings.Join(drift, ", ")
		got, err := record(tx, now, s, lifecycle.Event{Kind: lifecycle.Reconciled, At: now, Observed: st, PlanID: s.PlanID, Quantity: s.Quantity,
			TermStart: start, TermEnd: end}, m)
		if err != nil {
			return err
		}
		id = got.ID
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return &id, repaired, nil
}

// ReconcileReport is what a reconciliation run did.
type ReconcileReport struct {
	Seen     int       `json:"seen"`
	Repaired int       `json:"repaired"`
	Failed   int       `json:"failed"`
	Started  time.Time `json:"started_at"`
	Finished time.Time `json:"finished_at"`
}

// Reconcile lists every subscription at Microsoft (all pages) and repairs
// drift in state, plan, quantity and term, each repair on the timeline.
func (p *Processor) Reconcile(ctx context.Context, actor string) (ReconcileReport, error) {
	rep := ReconcileReport{Started: p.Store.Now()}
	err := p.Client.List(ctx, func(page []Subscription) error {
		for _, s := range page {
			rep.Seen++
			_, repaired, err := p.reconcileOne(ctx, s, subscriptions.Meta{Source: SourceReconcile, Actor: actor})
			if err != nil {
				rep.Failed++
				p.Log.Error("azure reconcile", "subscription", s.ID, "err", err)
				continue
			}
			if repaired {
				rep.Repaired++
			}
		}
		return nil
	})
	rep.Finished = p.Store.Now()
	return rep, err
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}
