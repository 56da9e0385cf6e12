// Package subscriptions applies lifecycle events to stored subscriptions:
// it finds the record by its marketplace identity, runs the pure rules of
// server/lifecycle, and writes the outcome and a timeline entry in one
// transaction with an optimistic-concurrency check.
package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Ref identifies a subscription: by id, or by the marketplace identities
// an event carries. An AWS event may carry several at once: for products
// integrated before the concurrent-agreement model, ResolveCustomer answers
// the CustomerIdentifier AND CustomerAWSAccountId, LicenseArn and ProductCode
// (reference §1, §3). One purchase is one subscription carrying every
// identity AWS gave, so a Ref finds the subscription that holds ANY of its
// identities, and the identities it carries are merged onto it.
type Ref struct {
	ID uint

	AWSCustomerAccountID  string // with AWSLicenseArn (concurrent agreements)
	AWSLicenseArn         string
	AWSCustomerIdentifier string // with AWSProductCode (legacy)
	AWSProductCode        string

	AzureSubscriptionID string
}

func (r Ref) keys() store.SubscriptionKeys {
	return store.SubscriptionKeys{ID: r.ID, AWSCustomerAccountID: r.AWSCustomerAccountID, AWSLicenseArn: r.AWSLicenseArn,
		AWSCustomerIdentifier: r.AWSCustomerIdentifier, AWSProductCode: r.AWSProductCode, AzureSubscriptionID: r.AzureSubscriptionID}
}

// mergeIdentities lists the AWS identities the reference carries that the
// subscription lacks (column → value). A stored identity is never
// replaced: events that name another license find the subscription by
// another of its identities and leave the stored one as it is.
func (r Ref) mergeIdentities(s *store.Subscription) map[string]any {
	out := map[string]any{}
	fill := func(col string, dst *string, v string) {
		if v != "" && *dst == "" {
			*dst = v
			out[col] = v
		}
	}
	if s.Marketplace != "aws" {
		return out
	}
	if r.AWSLicenseArn != "" && r.AWSCustomerAccountID != "" && s.AWSLicenseArn == "" && s.AWSCustomerAccountID == "" {
		fill("aws_customer_account_id", &s.AWSCustomerAccountID, r.AWSCustomerAccountID)
		fill("aws_license_arn", &s.AWSLicenseArn, r.AWSLicenseArn)
	}
	if r.AWSCustomerIdentifier != "" && r.AWSProductCode != "" && s.AWSCustomerIdentifier == "" {
		if s.AWSProductCode == "" || s.AWSProductCode == r.AWSProductCode {
			fill("aws_product_code", &s.AWSProductCode, r.AWSProductCode)
			fill("aws_customer_identifier", &s.AWSCustomerIdentifier, r.AWSCustomerIdentifier)
		}
	}
	fill("aws_product_code", &s.AWSProductCode, r.AWSProductCode)
	return out
}

// Meta says where an event came from, for the timeline.
type Meta struct {
	Source  string // aws_registration, aws_sqs, azure_landing, azure_webhook, portal, reconcile, sandbox
	Actor   string // "system" or the user's e-mail
	Payload string // raw JSON, may be empty
	InboxID *uint
	Note    string // appended to the timeline summary (what the event carried)
}

// Init fills a subscription that the event creates (customer, offer, names,
// flags); it is not called for an existing record.
type Init func(s *store.Subscription)

// Result is what Apply did.
type Result struct {
	Subscription *store.Subscription
	Outcome      lifecycle.Outcome
	Created      bool
}

// ErrConcurrent is returned when the record kept changing under us.
var ErrConcurrent = errors.New("subscription changed concurrently")

// Apply applies one event. It retries a lost optimistic-concurrency race a
// few times, re-reading the record each time.
func Apply(ctx context.Context, st *store.Store, ref Ref, ev lifecycle.Event, meta Meta, init Init) (Result, error) {
	if ev.At.IsZero() {
		ev.At = st.Now()
	}
	ev.At = ev.At.UTC()
	for attempt := 0; attempt < 5; attempt++ {
		var res Result
		err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			res, err = applyTx(tx, st.Now(), ref, ev, meta, init)
			return err
		})
		if errors.Is(err, ErrConcurrent) || store.IsUniqueViolation(err) {
			continue // another writer got there first: read again
		}
		return res, err
	}
	return Result{}, ErrConcurrent
}

// ApplyTx is Apply inside a caller's transaction. It does not retry an
// optimistic-concurrency loss (the caller's transaction decides), but it
// does survive a concurrent creator: when the subscription it would create
// was created meanwhile by another transaction (a unique identity index is
// taken), it re-reads and applies the event to the row that won. AWS does
// not order events against each other or against the registration POST
// (reference §2, §6), so the registration and the SQS processor may both
// create the same new buyer's subscription at once; neither may fail.
func ApplyTx(tx *store.Tx, now time.Time, ref Ref, ev lifecycle.Event, meta Meta, init Init) (Result, error) {
	if ev.At.IsZero() {
		ev.At = now
	}
	ev.At = ev.At.UTC()
	for attempt := 0; ; attempt++ {
		res, err := applyTx(tx, now, ref, ev, meta, init)
		if errors.Is(err, errCreatedMeanwhile) && attempt < maxCreateRaces {
			continue // the insert was rolled back to its savepoint: read the winner
		}
		return res, err
	}
}

// maxCreateRaces bounds the re-reads after a lost insert. One is enough
// unless the winner's identities and ours are spread over several rows
// being created at the same moment.
const maxCreateRaces = 3

// errCreatedMeanwhile says a concurrent transaction created a subscription
// holding one of the reference's identities after we looked for it. It is
// returned wrapped with the unique-key violation (store.IsUniqueViolation).
var errCreatedMeanwhile = errors.New("subscription created concurrently")

func applyTx(tx *store.Tx, now time.Time, ref Ref, ev lifecycle.Event, meta Meta, init Init) (Result, error) {
	// On Postgres the rows are locked: writers of one subscription queue
	// on its row instead of racing.
	rows, err := tx.SubscriptionsByKeys(ref.keys(), 2)
	if err != nil {
		return Result{}, err
	}
	in := lifecycle.Subscription{}
	if len(rows) > 0 {
		in = toLifecycle(&rows[0])
	}
	out, err := lifecycle.Apply(in, ev)
	if err != nil {
		return Result{}, err
	}
	res := Result{Outcome: out}
	if len(rows) == 0 && !out.Subscription.Exists {
		return res, nil
	}
	c := newChange(tx, now, ref, rows, out, init)
	res.Created = c.created
	if err := c.save(); err != nil {
		if errors.Is(err, errCreatedMeanwhile) {
			return Result{}, err
		}
		return res, err
	}
	if err := c.record(ev, meta); err != nil {
		return res, err
	}
	res.Subscription = c.sub
	return res, nil
}

// change is one event's outcome being written to a subscription record.
type change struct {
	tx      *store.Tx
	now     time.Time
	out     lifecycle.Outcome
	sub     *store.Subscription // the record: the stored one, or a new one
	created bool                // sub is new
	from    string              // the state before ("" when created)
	merged  map[string]any      // identity columns the reference adds
	notes   []string            // for the timeline
}

// newChange picks the record the outcome applies to: the first of rows
// (merging the reference's identities into it unless a second row holds
// some too), or a new one.
func newChange(tx *store.Tx, now time.Time, ref Ref, rows []store.Subscription, out lifecycle.Outcome, init Init) *change {
	c := &change{tx: tx, now: now, out: out, merged: map[string]any{}}
	switch {
	case len(rows) == 0:
		c.sub = ref.newSubscription(out.Subscription.Marketplace, now, init)
		c.created = true
	case len(rows) > 1:
		// Two records hold identities of this one purchase (stored before
		// identities were merged): act on the older, merge nothing, say so.
		c.sub, c.from = &rows[0], rows[0].State
		c.notes = append(c.notes, fmt.Sprintf("the identities also name subscription %d: not merged", rows[1].ID))
	default:
		c.sub, c.from = &rows[0], rows[0].State
		c.merged = ref.mergeIdentities(c.sub)
		if len(c.merged) > 0 {
			c.notes = append(c.notes, "identities added: "+identityNote(c.merged))
		}
	}
	return c
}

// newSubscription is the record an event creates for the reference.
func (r Ref) newSubscription(mp lifecycle.Marketplace, now time.Time, init Init) *store.Subscription {
	sub := &store.Subscription{
		Marketplace:           string(mp),
		AWSCustomerAccountID:  r.AWSCustomerAccountID,
		AWSLicenseArn:         r.AWSLicenseArn,
		AWSCustomerIdentifier: r.AWSCustomerIdentifier,
		AWSProductCode:        r.AWSProductCode,
		AzureSubscriptionID:   r.AzureSubscriptionID,
		CreatedAt:             now,
	}
	if init != nil {
		init(sub)
	}
	return sub
}

// save copies the outcome onto the record and writes it when anything
// changed.
func (c *change) save() error {
	if err := fromLifecycle(c.tx, c.sub, c.out.Subscription); err != nil {
		return err
	}
	planned, err := defaultPlan(c.tx, c.sub)
	if err != nil {
		return err
	}
	if planned != "" {
		c.notes = append(c.notes, planned)
	}
	if !c.out.Changed && !c.created && len(c.merged) == 0 && planned == "" {
		return nil
	}
	var customer *store.Customer
	if c.sub.CustomerID != nil {
		if customer, err = c.tx.SubscriptionCustomer(*c.sub.CustomerID); err != nil {
			return err
		}
	}
	stored := c.sub.SearchText
	c.sub.SearchText = store.SearchTextFor(c.sub, customer)
	c.sub.UpdatedAt = c.now
	if c.created {
		return c.insert()
	}
	return c.update(stored)
}

// insert creates the record; errCreatedMeanwhile when another transaction
// created one with the same identities first.
func (c *change) insert() error {
	c.sub.Version = 1
	// In a savepoint: on Postgres a failed INSERT aborts the whole
	// transaction otherwise, and the caller's other work with it.
	err := c.tx.Savepoint(func(tx *store.Tx) error { return tx.CreateSubscription(c.sub) })
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: %w", errCreatedMeanwhile, err)
	}
	return err
}

// update writes the record if nobody changed it since we read it
// (ErrConcurrent otherwise). storedSearch is the search text it was read with.
func (c *change) update(storedSearch string) error {
	sub := c.sub
	upd := map[string]any{
		"state": sub.State, "state_changed_at": sub.StateChangedAt, "state_kind": sub.StateKind, "offer_id": sub.OfferID, "plan_id": sub.PlanID,
		"quantity": sub.Quantity, "term_start": sub.TermStart, "term_end": sub.TermEnd, "updated_at": c.now,
	}
	for k, v := range c.merged {
		upd[k] = v
	}
	lost := false
	err := c.tx.Savepoint(func(tx *store.Tx) error {
		err := tx.UpdateSubscription(sub.ID, sub.Version, upd)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			lost = true // another writer changed (or removed) it since we read it
			return nil
		}
		if err == nil && len(c.merged) == 0 && sub.SearchText != storedSearch {
			// UpdateSubscription refreshes the digest when an identity
			// changes; a digest gone stale otherwise is refreshed too.
			err = tx.RefreshSearchText(sub.ID)
		}
		return err
	})
	if errors.Is(err, store.ErrConflict) && len(c.merged) > 0 {
		// An identity we merge was just given to a subscription
		// created meanwhile: read again (both rows then).
		return fmt.Errorf("%w: %w", errCreatedMeanwhile, err)
	}
	if err != nil {
		return err
	}
	if lost {
		return ErrConcurrent
	}
	sub.Version++
	return nil
}

// record writes the timeline event and, in the same transaction, the
// outbox's webhook events.
func (c *change) record(ev lifecycle.Event, meta Meta) error {
	sub := c.sub
	te := store.TimelineEvent{
		SubscriptionID: sub.ID, At: ev.At, Kind: string(ev.Kind), Source: meta.Source,
		Summary: c.out.Summary, FromState: c.from, ToState: sub.State, Actor: meta.Actor,
		Payload: meta.Payload, InboxID: meta.InboxID, CreatedAt: c.now,
	}
	if meta.Note != "" {
		te.Summary += " — " + meta.Note
	}
	for _, n := range c.notes {
		te.Summary += " — " + n
	}
	over, err := c.seatsOverNote()
	if err != nil {
		return err
	}
	te.Summary += over
	if te.Actor == "" {
		te.Actor = "system"
	}
	if err := c.tx.AddTimelineEvent(&te); err != nil {
		return err
	}
	// The outbox: the seller's systems hear of it in this same transaction.
	if types := eventTypes(c.created, c.from, sub.State, c.out.Effects); len(types) > 0 {
		change := map[string]any{"kind": ev.Kind, "from_state": c.from, "to_state": sub.State, "summary": te.Summary,
			"source": meta.Source, "actor": te.Actor}
		if err := webhooks.EmitSubscription(c.tx, c.now, sub.ID, ev.At, types, map[string]any{"change": change}); err != nil {
			return err
		}
	}
	return nil
}

// seatsOverNote is the timeline's note when a seat-based subscription's
// quantity fell below the seats assigned: nobody loses a seat silently, the
// customer admin chooses whom to release. "" otherwise.
func (c *change) seatsOverNote() (string, error) {
	sub := c.sub
	if c.created || !slices.Contains(c.out.Effects, lifecycle.QuantityChanged) || sub.Plan == nil || !sub.Plan.SeatBased {
		return "", nil
	}
	assigned, err := c.tx.CountSeats(sub.ID)
	if err != nil || assigned <= sub.Quantity {
		return "", err
	}
	return fmt.Sprintf(" — %d seats assigned, %d over the new quantity: marked for the customer admin to choose whom to release",
		assigned, assigned-sub.Quantity), nil
}

// eventTypes names the webhook events a change makes.
func eventTypes(created bool, from, to string, effects []lifecycle.Effect) []string {
	var out []string
	if created {
		out = append(out, webhooks.SubscriptionCreated)
	}
	if from != to {
		switch lifecycle.State(to) {
		case lifecycle.Active:
			if from == string(lifecycle.Suspended) {
				out = append(out, webhooks.SubscriptionReinstated)
			} else {
				out = append(out, webhooks.SubscriptionActivated)
			}
		case lifecycle.Suspended:
			out = append(out, webhooks.SubscriptionSuspended)
		case lifecycle.UnsubscribePending:
			out = append(out, webhooks.SubscriptionUnsubscribePending)
		case lifecycle.Ended:
			out = append(out, webhooks.SubscriptionEnded)
		case lifecycle.Failed:
			out = append(out, webhooks.SubscriptionFailed)
		}
	}
	if !created {
		if slices.Contains(effects, lifecycle.PlanChanged) {
			out = append(out, webhooks.SubscriptionPlanChanged)
		}
		if slices.Contains(effects, lifecycle.QuantityChanged) {
			out = append(out, webhooks.SubscriptionQuantityChanged)
		}
	}
	return out
}

func toLifecycle(s *store.Subscription) lifecycle.Subscription {
	out := lifecycle.Subscription{
		Exists:      true,
		Marketplace: lifecycle.Marketplace(s.Marketplace),
		State:       lifecycle.State(s.State),
		StateAt:     s.StateChangedAt.UTC(),
		StateBy:     lifecycle.Kind(s.StateKind),
		Quantity:    s.Quantity,
	}
	if s.Plan != nil {
		out.PlanID = s.Plan.PlanID
	}
	if s.TermStart != nil {
		out.TermStart = s.TermStart.UTC()
	}
	if s.TermEnd != nil {
		out.TermEnd = s.TermEnd.UTC()
	}
	return out
}

// fromLifecycle copies the rules' result onto the stored record, resolving
// the marketplace plan id to the offer's plan row.
func fromLifecycle(tx *store.Tx, s *store.Subscription, l lifecycle.Subscription) error {
	s.State = string(l.State)
	s.StateChangedAt = l.StateAt
	s.StateKind = string(l.StateBy)
	s.Quantity = l.Quantity
	s.TermStart = timePtr(l.TermStart)
	s.TermEnd = timePtr(l.TermEnd)
	cur := ""
	if s.Plan != nil {
		cur = s.Plan.PlanID
	}
	if l.PlanID != "" && l.PlanID != cur {
		if s.OfferID == nil {
			return fmt.Errorf("plan %q reported for a subscription without an offer", l.PlanID)
		}
		p, err := tx.OfferPlan(*s.OfferID, l.PlanID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("plan %q is not a plan of offer %d", l.PlanID, *s.OfferID)
		}
		if err != nil {
			return err
		}
		s.PlanID, s.Plan = &p.ID, p
	}
	return nil
}

// identityNote lists merged identities for the timeline, in a fixed order.
func identityNote(m map[string]any) string {
	var parts []string
	for _, k := range []string{"aws_customer_identifier", "aws_product_code", "aws_customer_account_id", "aws_license_arn"} {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", strings.TrimPrefix(k, "aws_"), v))
		}
	}
	return strings.Join(parts, ", ")
}

// defaultPlan gives an AWS subscription of a non-contract offer the
// offer's plan when it has none. AWS SaaS subscriptions have no plans: the
// product's metering dimensions apply to every buyer from the start
// ("metering may begin" with subscribe-success, reference §6.3), so the
// offer's default plan (its first) carries them. Contract subscriptions
// get their plan from the entitlements instead. It returns a timeline note
// when it assigned one.
//
// A subscription first seen before its product had an offer is linked to
// the offer here once the seller has created it.
func defaultPlan(tx *store.Tx, s *store.Subscription) (string, error) {
	if s.Marketplace != "aws" || s.PlanID != nil || (s.OfferID == nil && s.AWSProductCode == "") {
		return "", nil
	}
	o, err := tx.AWSOfferFor(s.OfferID, s.AWSProductCode)
	if err != nil || o == nil || o.Contract {
		return "", err
	}
	p, err := tx.FirstPlanOf(o.ID)
	if err != nil || p == nil {
		return "", err
	}
	linked := ""
	if s.OfferID == nil {
		s.OfferID = &o.ID
		linked = "offer " + o.MarketplaceID + " linked; "
	}
	s.PlanID, s.Plan = &p.ID, p
	return fmt.Sprintf("%splan %s: the offer's default plan (AWS SaaS subscriptions meter the product's dimensions)", linked, p.PlanID), nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NoteTx records a timeline entry that changes no state (an agreement
// ending soon, a superseded agreement) inside a caller's transaction.
func NoteTx(tx *store.Tx, now time.Time, subID uint, kind string, at time.Time, summary string, meta Meta) error {
	state, err := tx.SubscriptionState(subID)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = now
	}
	if meta.Note != "" {
		summary += " — " + meta.Note
	}
	actor := meta.Actor
	if actor == "" {
		actor = "system"
	}
	return tx.AddTimelineEvent(&store.TimelineEvent{SubscriptionID: subID, At: at.UTC(), Kind: kind, Source: meta.Source, Summary: summary,
		FromState: state, ToState: state, Actor: actor, Payload: meta.Payload, InboxID: meta.InboxID, CreatedAt: now})
}
