// Package lifecycle holds the unified subscription state machine of both
// marketplaces as one pure function: Apply(current subscription, event)
// returns the new state and the effects the caller must carry out. It reads
// no clock, no database and no network, so every rule is table-tested.
//
// Ordering rule. Marketplace events arrive late, twice or out of order. Each
// state-bearing event carries the time it happened (At). The state of a
// subscription is the one implied by the newest state-bearing event it has
// seen: an event older than the one that set the current state is recorded
// but changes nothing. Whatever order a set of events arrives in, the final
// state is therefore the same. On equal times the later stage of the life
// (higher rank) wins, which keeps the result independent of arrival order.
package lifecycle

import (
	"fmt"
	"strings"
	"time"
)

// Marketplace names a marketplace.
type Marketplace string

const (
	AWS   Marketplace = "aws"
	Azure Marketplace = "azure"
)

// State is the unified subscription state.
type State string

const (
	Pending            State = "pending"
	Active             State = "active"
	Suspended          State = "suspended"
	UnsubscribePending State = "unsubscribe_pending"
	Ended              State = "ended"
	Failed             State = "failed"
)

// States lists every state in lifecycle order.
var States = []State{Pending, Active, Suspended, UnsubscribePending, Ended, Failed}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// CanUse reports whether a customer in this state may use the product.
func (s State) CanUse() bool { return s == Active || s == UnsubscribePending }

// rank orders states along a subscription's life; it only breaks ties
// between events that carry the same time.
func (s State) rank() int {
	switch s {
	case Pending:
		return 0
	case Active, Suspended:
		return 1
	case UnsubscribePending:
		return 2
	default: // Ended, Failed
		return 3
	}
}

// Kind names an event.
type Kind string

const (
	// AWS
	AWSRegistered         Kind = "aws.registered"          // ResolveCustomer succeeded for a registration POST
	AWSSubscribeSuccess   Kind = "aws.subscribe_success"   // SNS subscribe-success, EventBridge agreement created (NEW) / license updated
	AWSSubscribeFail      Kind = "aws.subscribe_fail"      // SNS subscribe-fail
	AWSUnsubscribePending Kind = "aws.unsubscribe_pending" // SNS unsubscribe-pending, EventBridge license deprovisioned
	AWSUnsubscribeSuccess Kind = "aws.unsubscribe_success" // SNS unsubscribe-success, EventBridge agreement ended (revoking)
	AWSEntitlements       Kind = "aws.entitlements"        // GetEntitlements result: EntitlementCurrent says whether any is current

	// Microsoft
	AzureResolved       Kind = "azure.resolved"        // purchase token resolved (PendingFulfillmentStart)
	AzureActivated      Kind = "azure.activated"       // activate succeeded
	AzureChangePlan     Kind = "azure.change_plan"     // webhook or publisher operation
	AzureChangeQuantity Kind = "azure.change_quantity" // webhook or publisher operation
	AzureRenew          Kind = "azure.renew"
	AzureSuspend        Kind = "azure.suspend"
	AzureReinstate      Kind = "azure.reinstate"
	AzureUnsubscribe    Kind = "azure.unsubscribe"

	// Either marketplace: the marketplace's own record, read back.
	Reconciled Kind = "reconciled"
)

// Marketplace returns the marketplace an event kind belongs to ("" for both).
func (k Kind) Marketplace() Marketplace {
	switch k {
	case AWSRegistered, AWSSubscribeSuccess, AWSSubscribeFail, AWSUnsubscribePending, AWSUnsubscribeSuccess, AWSEntitlements:
		return AWS
	case AzureResolved, AzureActivated, AzureChangePlan, AzureChangeQuantity, AzureRenew, AzureSuspend, AzureReinstate, AzureUnsubscribe:
		return Azure
	case Reconciled:
		return ""
	}
	return "invalid"
}

// Subscription is what the rules read of a subscription.
type Subscription struct {
	Exists      bool // false: no record yet (the event may create it)
	Marketplace Marketplace
	State       State
	StateAt     time.Time // when the event that set State happened
	StateBy     Kind      // the kind of that event ("" unknown)
	PlanID      string
	Quantity    int
	TermStart   time.Time
	TermEnd     time.Time
}

// Event is something that happened to a subscription.
type Event struct {
	Kind Kind
	At   time.Time // when it happened at the marketplace; callers use the receipt time when none is given

	PlanID   string // ChangePlan, and the plan any event reports
	Quantity int    // ChangeQuantity; 0 = not given

	TermStart, TermEnd time.Time // Renew, Reconciled, AWSEntitlements (expiry), AWSSubscribeSuccess (agreement); Microsoft's term read back after activation and changes

	EntitlementCurrent bool  // AWSEntitlements: at least one entitlement is current
	Observed           State // Reconciled: the state the marketplace reports
}

// Effect is work the caller must do after storing the outcome.
type Effect string

const (
	GrantAccess       Effect = "grant_access"       // the customer may now use the product
	RevokeAccess      Effect = "revoke_access"      // the customer may no longer use the product
	FinalMetering     Effect = "final_metering"     // seal and send usage now (AWS unsubscribe-pending)
	FetchEntitlements Effect = "fetch_entitlements" // call GetEntitlements for this subscription
	PlanChanged       Effect = "plan_changed"
	QuantityChanged   Effect = "quantity_changed"
	TermChanged       Effect = "term_changed"
)

// Outcome is the result of applying an event.
type Outcome struct {
	Subscription Subscription // the subscription after the event
	Changed      bool         // anything of Subscription changed
	StateChanged bool
	Summary      string // one line for the timeline
	Effects      []Effect
}

// Apply computes what event e does to subscription s. It returns an error
// only for an event that can never apply to s (wrong marketplace, unknown
// kind, invalid payload); stale, duplicate or not-allowed events are a
// normal outcome with Changed=false and a Summary that says why.
func Apply(s Subscription, e Event) (Outcome, error) {
	mp := e.Kind.Marketplace()
	if mp == "invalid" {
		return Outcome{}, fmt.Errorf("unknown event kind %q", e.Kind)
	}
	if s.Exists && mp != "" && s.Marketplace != mp {
		return Outcome{}, fmt.Errorf("event %s does not apply to a %s subscription", e.Kind, s.Marketplace)
	}
	if !s.Exists {
		if mp == "" {
			return Outcome{}, fmt.Errorf("event %s needs an existing subscription", e.Kind)
		}
		s.Marketplace = mp
	}
	if e.Quantity < 0 {
		return Outcome{}, fmt.Errorf("negative quantity %d", e.Quantity)
	}
	if e.Kind == Reconciled && !e.Observed.Valid() {
		return Outcome{}, fmt.Errorf("reconciled event with unknown state %q", e.Observed)
	}

	r := rules{before: s, s: s, e: e}
	r.apply()
	return r.outcome(), nil
}

type rules struct {
	before, s Subscription
	e         Event
	summary   string
	changes   []string // plan and quantity changes, for the summary
	unchanged []string // plan and quantity that were already so
}

// apply runs the rules of the event's marketplace (Apply has rejected
// unknown kinds and kinds of the other marketplace).
func (r *rules) apply() {
	switch r.e.Kind.Marketplace() {
	case AWS:
		r.applyAWS()
	case Azure:
		r.applyAzure()
	case "":
		r.reconciled()
	}
}

func (r *rules) applyAWS() {
	switch r.e.Kind {
	case AWSRegistered:
		r.awsRegistered()
	case AWSSubscribeSuccess:
		r.awsSubscribeSuccess()
	case AWSSubscribeFail:
		r.to(Failed, "Subscription failed (payment or subscription problem at AWS)")
	case AWSUnsubscribePending:
		r.to(UnsubscribePending, "Unsubscribe pending: final usage is being sent")
	case AWSUnsubscribeSuccess:
		r.to(Ended, "Unsubscribed")
	case AWSEntitlements:
		r.awsEntitlements()
	}
}

func (r *rules) applyAzure() {
	switch r.e.Kind {
	case AzureResolved:
		r.azureResolved()
	case AzureActivated:
		r.fromReadingTerm([]State{Pending}, Active, "Activated") // term read back from Microsoft right after activating
	case AzureChangePlan:
		r.azureChangePlan()
	case AzureChangeQuantity:
		r.azureChangeQuantity()
	case AzureRenew:
		r.azureRenew()
	case AzureSuspend:
		r.fromReadingTerm([]State{Pending, Active}, Suspended, "Suspended")
	case AzureReinstate:
		r.fromReadingTerm([]State{Suspended}, Active, "Reinstated")
	case AzureUnsubscribe:
		r.to(Ended, "Unsubscribed")
	}
}

func (r *rules) awsRegistered() {
	r.create("Registered through AWS Marketplace")
	r.fill()
	if r.before.Exists {
		r.summary = "Registration received; state unchanged (" + string(r.s.State) + ")"
	}
}

func (r *rules) awsSubscribeSuccess() {
	r.fill()
	if !r.s.Exists || !r.e.At.Before(r.s.StateAt) {
		r.term(r.e.TermStart, r.e.TermEnd) // a purchase agreement's start and end, when the event names them
	}
	r.to(Active, "Subscription active")
}

// awsEntitlements applies a GetEntitlements read, AWS's current truth about
// what a contract buyer holds: the seat plan and quantity follow it (an
// upgrade raises the seats). The state follows it only forwards. A read may
// lag the lifecycle notifications (AWS may still list the cancelled
// contract's grant), so it never undoes a cancellation, a payment failure or
// an end that a notification made: only a new subscribe-success does (AWS
// sends one when the buyer resubscribes or accepts a renewal). An end that a
// read made (the contract expired) is undone by a later read that finds a
// current grant.
func (r *rules) awsEntitlements() {
	if r.e.PlanID != "" {
		r.plan(r.e.PlanID)
	}
	r.quantity(r.e.Quantity)
	r.term(time.Time{}, r.e.TermEnd)
	r.entitlementState()
}

func (r *rules) azureResolved() {
	r.create("Purchase resolved: pending activation")
	r.fill()
	r.term(r.e.TermStart, r.e.TermEnd)
	if r.before.Exists && r.summary == "" {
		r.summary = "Purchase token resolved again; state unchanged (" + string(r.s.State) + ")"
	}
}

func (r *rules) azureChangePlan() {
	r.require(Active)
	switch {
	case r.summary != "": // not possible from this state
	case r.e.PlanID == "":
		r.summary = "Plan change without a plan: ignored"
	default:
		r.plan(r.e.PlanID)
		r.quantity(r.e.Quantity)
		r.term(r.e.TermStart, r.e.TermEnd)
	}
}

func (r *rules) azureChangeQuantity() {
	r.require(Active)
	switch {
	case r.summary != "": // not possible from this state
	case r.e.Quantity == 0:
		r.summary = "Quantity change without a quantity: ignored"
	default:
		r.quantity(r.e.Quantity)
		r.term(r.e.TermStart, r.e.TermEnd)
	}
}

func (r *rules) azureRenew() {
	r.require(Active, Suspended)
	if r.summary != "" {
		return // not possible from this state
	}
	r.term(r.e.TermStart, r.e.TermEnd)
	if r.summary == "" {
		r.summary = "Renewed; term unchanged"
	}
}

// reconciled applies the marketplace's own record, the truth: it repairs
// plan and quantity too.
func (r *rules) reconciled() {
	if r.e.PlanID != "" {
		r.plan(r.e.PlanID)
	}
	r.quantity(r.e.Quantity)
	r.term(r.e.TermStart, r.e.TermEnd)
	r.to(r.e.Observed, "Reconciled with the marketplace: "+string(r.e.Observed))
}

// fromReadingTerm is from, and when the subscription is then in state `to`,
// takes the term the event read back from the marketplace.
func (r *rules) fromReadingTerm(allowed []State, to State, summary string) {
	r.from(allowed, to, summary)
	if r.s.State == to {
		r.term(r.e.TermStart, r.e.TermEnd)
	}
}

// create makes the record pending when it does not exist yet.
func (r *rules) create(summary string) {
	if r.s.Exists {
		return
	}
	r.s.Exists = true
	r.s.State = Pending
	r.s.StateAt = r.e.At
	r.s.StateBy = r.e.Kind
	r.summary = summary
}

// entitlementState applies what a GetEntitlements read says to the state.
//
//	from                      current grant        no current grant
//	no record, pending        active               pending (nothing bought yet)
//	active                    active (unchanged)   ended
//	unsubscribe_pending       unchanged            ended
//	ended by a read (expiry)  active               unchanged
//	ended otherwise, failed   unchanged            unchanged
//
// A read that changes nothing leaves StateAt alone: it is dated when it was
// read, and must not make a later-processed notification look stale.
func (r *rules) entitlementState() {
	st := r.s.State
	keep := func(summary string) {
		if r.summary == "" {
			r.summary = summary
		}
	}
	if r.e.EntitlementCurrent {
		switch {
		case !r.s.Exists || st == Pending:
			r.to(Active, "Entitlement current")
		case st == Active:
			keep("Entitlement current; already active")
		case st == Ended && r.s.StateBy == AWSEntitlements:
			r.to(Active, "Entitlement current again: the contract was renewed or upgraded at AWS")
		default:
			keep(fmt.Sprintf("Entitlement current, but the subscription stays %s: a read never undoes %s; a new subscribe-success does",
				st, cause(r.s.StateBy)))
		}
		return
	}
	switch {
	case !r.s.Exists:
		r.create("No current entitlement yet: pending")
	case st == Pending:
		keep("No current entitlement yet: still pending")
	case st == Active || st == UnsubscribePending:
		r.to(Ended, "No current entitlement")
	default:
		keep("No current entitlement; already " + string(st))
	}
}

// cause names, for a timeline, the event that set a state.
func cause(k Kind) string {
	switch k {
	case AWSUnsubscribePending, AWSUnsubscribeSuccess:
		return "the buyer's cancellation"
	case AWSSubscribeFail:
		return "the failed subscription"
	case "":
		return "how it got there"
	}
	return "the event " + string(k)
}

// fill copies the plan and quantity an event reports without a change of
// their own (registration, resolve, subscribe-success).
func (r *rules) fill() {
	if r.e.PlanID != "" && r.s.PlanID == "" {
		r.plan(r.e.PlanID)
	}
	if r.e.Quantity > 0 && r.s.Quantity == 0 {
		r.quantity(r.e.Quantity)
	}
}

// newer reports whether the event is at least as new as the one that set
// the current state, breaking ties by rank.
func (r *rules) newer(to State) bool {
	if !r.s.Exists || r.s.State == Pending {
		// pending only says "created, nothing known yet": any state-bearing
		// event moves it on, even one that happened before the record was
		// created (AWS often confirms before the buyer registers).
		return true
	}
	if r.e.At.After(r.s.StateAt) {
		return true
	}
	if r.e.At.Equal(r.s.StateAt) {
		return to.rank() > r.s.State.rank()
	}
	return false
}

// terminal reports whether nothing can move the subscription any more:
// a Microsoft subscription that is unsubscribed never comes back (a new
// purchase is a new subscription id).
func (r *rules) terminal() bool {
	return r.s.Exists && r.s.Marketplace == Azure && r.s.State == Ended
}

// to moves the subscription to state `to` when the event is newer than the
// one that set the current state.
func (r *rules) to(to State, summary string) {
	switch {
	case r.terminal() && to != Ended:
		r.summary = "Ignored: the subscription has ended at the marketplace"
	case r.s.Exists && r.s.State == to:
		if r.e.At.After(r.s.StateAt) {
			r.s.StateAt = r.e.At
			r.s.StateBy = r.e.Kind
		}
		if r.summary == "" {
			r.summary = "Already " + string(to) + ": no change"
		}
	case !r.newer(to):
		r.summary = fmt.Sprintf("Ignored: older than the event that made it %s", r.s.State)
	default:
		r.s.Exists = true
		r.s.State = to
		r.s.StateAt = r.e.At
		r.s.StateBy = r.e.Kind
		r.summary = summary
	}
}

// from moves to `to` only from one of the allowed states (Microsoft's
// operations are valid from given states only).
func (r *rules) from(allowed []State, to State, summary string) {
	if r.s.State == to {
		r.to(to, summary)
		return
	}
	for _, a := range allowed {
		if r.s.State == a {
			r.to(to, summary)
			return
		}
	}
	r.summary = fmt.Sprintf("Ignored: %s is not possible from %s", r.e.Kind, r.s.State)
}

// require ignores the event unless the subscription is in one of the states.
func (r *rules) require(states ...State) {
	for _, st := range states {
		if r.s.State == st {
			return
		}
	}
	r.summary = fmt.Sprintf("Ignored: %s is not possible from %s", r.e.Kind, r.s.State)
}

func (r *rules) plan(p string) {
	if p == r.s.PlanID {
		r.unchanged = append(r.unchanged, "plan already "+p)
		return
	}
	if r.s.PlanID == "" {
		r.changes = append(r.changes, "plan "+p)
	} else {
		r.changes = append(r.changes, "plan changed from "+r.s.PlanID+" to "+p)
	}
	r.s.PlanID = p
}

func (r *rules) quantity(q int) {
	if q == 0 {
		return
	}
	if q == r.s.Quantity {
		r.unchanged = append(r.unchanged, fmt.Sprintf("quantity already %d", q))
		return
	}
	if r.s.Quantity == 0 {
		r.changes = append(r.changes, fmt.Sprintf("quantity %d", q))
	} else {
		r.changes = append(r.changes, fmt.Sprintf("quantity changed from %d to %d", r.s.Quantity, q))
	}
	r.s.Quantity = q
}

func (r *rules) term(start, end time.Time) {
	changed := false
	if !start.IsZero() && !start.Equal(r.s.TermStart) {
		r.s.TermStart = start
		changed = true
	}
	if !end.IsZero() && !end.Equal(r.s.TermEnd) {
		r.s.TermEnd = end
		changed = true
	}
	if changed && r.e.Kind == AzureRenew {
		r.summary = "Renewed until " + r.s.TermEnd.Format("2006-01-02")
	}
}

func (r *rules) outcome() Outcome {
	b, s := r.before, r.s
	o := Outcome{Subscription: s, Summary: r.summarize()}
	o.StateChanged = !b.Exists || b.State != s.State
	o.Changed = o.StateChanged || r.detailsChanged()
	o.Effects = append(r.stateEffects(o.StateChanged), r.changeEffects()...)
	return o
}

// detailsChanged reports whether anything but the state itself changed.
func (r *rules) detailsChanged() bool {
	b, s := r.before, r.s
	return b.PlanID != s.PlanID || b.Quantity != s.Quantity ||
		!b.TermStart.Equal(s.TermStart) || !b.TermEnd.Equal(s.TermEnd) || !b.StateAt.Equal(s.StateAt) || b.StateBy != s.StateBy
}

// stateEffects is the work a change of state asks for: access granted or
// revoked, final usage sent.
func (r *rules) stateEffects(stateChanged bool) []Effect {
	if !stateChanged {
		return nil
	}
	var effs []Effect
	b, s := r.before, r.s
	wasUsable := b.Exists && b.State.CanUse()
	switch {
	case s.State.CanUse() && !wasUsable:
		effs = append(effs, GrantAccess)
	case !s.State.CanUse() && wasUsable:
		effs = append(effs, RevokeAccess)
	}
	if s.State == UnsubscribePending {
		effs = append(effs, FinalMetering)
	}
	return effs
}

// changeEffects is the work changes of plan, quantity and term ask for,
// and the entitlements to fetch after an AWS purchase.
func (r *rules) changeEffects() []Effect {
	var effs []Effect
	b, s := r.before, r.s
	if b.PlanID != s.PlanID && b.PlanID != "" {
		effs = append(effs, PlanChanged)
	}
	if b.Quantity != s.Quantity && b.Quantity != 0 {
		effs = append(effs, QuantityChanged)
	}
	if b.Exists && !b.TermEnd.Equal(s.TermEnd) {
		effs = append(effs, TermChanged)
	}
	if s.Marketplace == AWS && (r.e.Kind == AWSRegistered || r.e.Kind == AWSSubscribeSuccess) {
		effs = append(effs, FetchEntitlements)
	}
	return effs
}

// summarize is the timeline line: what the rules said, then the plan and
// quantity changes.
func (r *rules) summarize() string {
	summary := r.summary
	switch {
	case len(r.changes) > 0 && summary == "":
		return capitalize(strings.Join(r.changes, "; "))
	case len(r.changes) > 0:
		return summary + "; " + strings.Join(r.changes, "; ")
	case summary == "" && len(r.unchanged) > 0:
		return capitalize(strings.Join(r.unchanged, "; ")) + ": no change"
	case summary == "":
		return string(r.e.Kind)
	}
	return summary
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
