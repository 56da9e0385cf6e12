package awsmp

import (
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
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// SourceSQS is the inbox source of AWS notifications read from SQS.
const SourceSQS = "aws_sqs"

// Processor stores AWS notifications in the inbox and applies them.
type Processor struct {
	Store *store.Store
	Log   *slog.Logger
	AWS   *Client      // for GetEntitlements (contracts); nil: entitlements are not read
	SNS   *SNSVerifier // nil: SNS signatures are not checked (the queue policy is the trust boundary)
	// Final is told when a customer cancelled (unsubscribe pending): their
	// last usage must go out now, AWS allows about an hour. Nil: the next
	// regular sealing pass does it.
	Final func(ctx context.Context, subscriptionID uint)
}

// Receive stores one SQS message body in the inbox and applies it. It
// returns an error only when the message could not be stored: then it must
// stay in the queue. A message that is stored but fails to apply is kept
// with its error and retried from the inbox, never from the queue.
func (p *Processor) Receive(ctx context.Context, body, sqsMessageID string) error {
	n, perr := ParseNotification(body, sqsMessageID)
	msg := &store.InboxMessage{Marketplace: "aws", Source: SourceSQS, DedupKey: n.DedupKey, Action: n.Action,
		ContentType: "application/json", Body: body}
	if perr != nil || n.DedupKey == "" || strings.HasSuffix(n.DedupKey, ":") {
		msg.DedupKey = "sqs:" + sqsMessageID
	}
	stored, isNew, err := p.Store.ReceiveInbox(ctx, msg)
	if err != nil {
		return err
	}
	if !isNew && stored.Status != store.InboxReceived {
		return nil // a redelivery of something already handled (or waiting for its retry)
	}
	_ = p.Apply(ctx, stored)
	return nil
}

// retryDelay backs off with the number of attempts made.
func retryDelay(attempts int) time.Duration {
	d := time.Minute
	for i := 0; i < attempts && d < 2*time.Hour; i++ {
		d *= 4
	}
	if d > 2*time.Hour {
		d = 2 * time.Hour
	}
	return d
}

// Apply processes a stored message: on first receipt, on retry, on replay.
func (p *Processor) Apply(ctx context.Context, m *store.InboxMessage) error {
	n, err := ParseNotification(m.Body, strings.TrimPrefix(m.DedupKey, "sqs:"))
	if err != nil {
		p.Log.Warn("aws notification unreadable", "inbox_id", m.ID, "err", err)
		return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, nil)
	}
	if handled, err := p.checkSignature(ctx, m, n); handled {
		return err
	}
	now := p.Store.Now()
	switch {
	case n.Refresh:
		// entitlement-updated: AWS's answer is read first, then applied and
		// the message marked done in one transaction.
		read, err := p.readEntitlements(ctx, n.Ref, n.ProductCode)
		if err != nil {
			return p.retryLater(ctx, m, err)
		}
		return p.applyOnce(ctx, m, func(tx *store.Tx) (store.InboxOutcome, error) {
			subID, err := p.applyEntitlementsTx(tx, now, read, SourceSQS, &m.ID)
			return store.InboxOutcome{Status: store.InboxProcessed, SubscriptionID: &subID}, err
		})
	case n.Kind == "" && n.Agreement != nil && lifecycleAgreement[n.Action] && n.Ignore == "":
		return p.applyAgreement(ctx, m, n)
	case n.Kind == "" && n.Note != nil:
		return p.applyNote(ctx, m, n)
	case n.Kind == "":
		return p.Store.FinishInbox(ctx, m.ID, store.InboxIgnored, n.Ignore, nil, nil)
	}
	return p.applyEvent(ctx, m, n, now)
}

// checkSignature checks an SNS message's signature when verification is
// on. handled says the message is dealt with (refused, or its retry
// scheduled) and Apply returns err.
func (p *Processor) checkSignature(ctx context.Context, m *store.InboxMessage, n Notification) (handled bool, err error) {
	if p.SNS == nil || (n.Shape != "sns" && n.Shape != "sns-raw") {
		return false, nil
	}
	verr := fmt.Errorf("%w: raw message delivery carries no signature; turn it off on the SQS subscription, or turn verification off", ErrSignature)
	if n.Shape == "sns" {
		verr = p.SNS.Verify(ctx, m.Body)
	}
	if errors.Is(verr, ErrSignature) {
		p.Log.Warn("aws notification refused", "inbox_id", m.ID, "err", verr)
		return true, p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, verr.Error(), nil, nil)
	}
	if verr != nil {
		return true, p.retryLater(ctx, m, verr)
	}
	return false, nil
}

// applyEvent applies a lifecycle event (subscribe-success, unsubscribe,
// License Updated, ...) to its subscription, creating it when new.
func (p *Processor) applyEvent(ctx context.Context, m *store.InboxMessage, n Notification, now time.Time) error {
	var offer store.Offer
	var err error
	if n.ProductCode != "" {
		if offer, err = p.Store.Reads(ctx).AWSOffer(n.ProductCode, false); err != nil {
			return p.retryLater(ctx, m, err)
		}
	}
	var read *entitlementRead
	if offer.Contract && n.Kind == lifecycle.AWSSubscribeSuccess {
		// For contracts, access follows the entitlements: read them now
		// (outside the transaction: no write lock is held across a call to
		// AWS) and apply them after the event, in the same transaction.
		if read, err = p.readEntitlements(ctx, n.Ref, n.ProductCode); err != nil {
			return p.retryLater(ctx, m, err)
		}
	}
	var subID uint
	final := false
	err = p.applyOnce(ctx, m, func(tx *store.Tx) (store.InboxOutcome, error) {
		var err error
		subID, final, err = p.eventTx(tx, now, m, n, offer, read)
		if err != nil {
			return store.InboxOutcome{}, err
		}
		return store.InboxOutcome{Status: store.InboxProcessed, SubscriptionID: &subID}, nil
	})
	if err != nil {
		return err
	}
	if final && p.Final != nil {
		p.Final(ctx, subID)
	}
	return nil
}

// eventTx is applyEvent's transaction. It returns the subscription's id
// and whether the customer's final usage must go out now.
func (p *Processor) eventTx(tx *store.Tx, now time.Time, m *store.InboxMessage, n Notification, offer store.Offer, read *entitlementRead) (uint, bool, error) {
	ev := lifecycle.Event{Kind: n.Kind, At: n.At}
	if n.Agreement != nil && n.Kind == lifecycle.AWSSubscribeSuccess {
		// License Updated names the agreement; a Purchase Agreement
		// Created that came first gave its term.
		ag, err := tx.AWSAgreement(n.Agreement.ID)
		if err != nil {
			return 0, false, err
		}
		if ag.StartsAt != nil && ag.EndedAt == nil {
			ev.TermStart = *ag.StartsAt
			if ag.EndsAt != nil {
				ev.TermEnd = *ag.EndsAt
			}
		}
	}
	meta := subscriptions.Meta{Source: SourceSQS, Actor: "aws", Payload: m.Body, InboxID: &m.ID}
	res, err := applyTx(tx, now, n.Ref, ev, meta, func(s *store.Subscription) {
		if offer.ID != 0 {
			s.OfferID = &offer.ID
		}
		s.AWSProductCode = n.ProductCode
		s.FreeTrial = n.FreeTrial
	})
	if err != nil {
		return 0, false, err
	}
	if res.Subscription == nil {
		return 0, false, errors.New("the event created no subscription")
	}
	s := res.Subscription
	final := slices.Contains(res.Outcome.Effects, lifecycle.FinalMetering)
	if err := p.linkAgreement(tx, now, n, s.ID, meta); err != nil {
		return 0, false, err
	}
	if err := completeFromEvent(tx, now, s, n, offer); err != nil {
		return 0, false, err
	}
	if read != nil {
		if _, err := p.applyEntitlementsTx(tx, now, read, SourceSQS, &m.ID); err != nil {
			return 0, false, err
		}
	}
	return s.ID, final, nil
}

// completeFromEvent adds what an event says and an existing subscription
// lacks: its offer, the free-trial flag, a newer AWS offer id.
func completeFromEvent(tx *store.Tx, now time.Time, s *store.Subscription, n Notification, offer store.Offer) error {
	upd := map[string]any{}
	if s.OfferID == nil && offer.ID != 0 {
		upd["offer_id"] = offer.ID
	}
	if n.FreeTrial && !s.FreeTrial {
		upd["free_trial"] = true
	}
	if newerOffer(s, n.OfferIdentifier, n.At) {
		upd["aws_offer_id"] = n.OfferIdentifier
	}
	if len(upd) == 0 {
		return nil
	}
	upd["updated_at"] = now
	return tx.UpdateSubscription(s.ID, 0, upd)
}

// applyOnce applies a stored message and marks it done in one transaction
// (store.ApplyInbox). A failure keeps nothing and schedules a retry; an
// attempt that another one beat (a redelivery racing the original, another
// replica, a replay) keeps nothing either and is not an error.
func (p *Processor) applyOnce(ctx context.Context, m *store.InboxMessage, fn func(tx *store.Tx) (store.InboxOutcome, error)) error {
	err := p.Store.ApplyInbox(ctx, m, fn)
	if errors.Is(err, store.ErrInboxTaken) {
		p.Log.Info("aws notification already applied by another attempt", "inbox_id", m.ID)
		return nil
	}
	if err != nil {
		return p.retryLater(ctx, m, err)
	}
	return nil
}

func (p *Processor) retryLater(ctx context.Context, m *store.InboxMessage, err error) error {
	retry := p.Store.Now().Add(retryDelay(m.Attempts))
	p.Log.Error("aws notification failed to apply", "inbox_id", m.ID, "err", err, "retry_at", retry)
	if ferr := p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, &retry); ferr != nil {
		return ferr
	}
	return err
}

// entitlementRead is one GetEntitlements answer, read before the
// transaction that applies it.
type entitlementRead struct {
	ref         subscriptions.Ref
	productCode string
	ents        []Entitlement
}

func (p *Processor) readEntitlements(ctx context.Context, ref subscriptions.Ref, productCode string) (*entitlementRead, error) {
	if p.AWS == nil {
		return nil, errors.New("AWS entitlements are not configured")
	}
	ents, err := p.AWS.GetEntitlements(ctx, EntitlementQuery{ProductCode: productCode, LicenseArn: ref.AWSLicenseArn,
		CustomerIdentifier: ref.AWSCustomerIdentifier})
	if err != nil {
		return nil, err
	}
	return &entitlementRead{ref: ref, productCode: productCode, ents: ents}, nil
}

// RefreshEntitlements reads a contract customer's entitlements from AWS,
// stores them, and applies them (see applyEntitlementsTx). It returns the
// subscription's id.
func (p *Processor) RefreshEntitlements(ctx context.Context, ref subscriptions.Ref, productCode, source string, inboxID *uint) (*uint, error) {
	read, err := p.readEntitlements(ctx, ref, productCode)
	if err != nil {
		return nil, err
	}
	var subID uint
	err = p.Store.InTx(ctx, func(tx *store.Tx) error {
		subID, err = p.applyEntitlementsTx(tx, p.Store.Now(), read, source, inboxID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &subID, nil
}

// applyEntitlementsTx stores a GetEntitlements answer as AWS gave it (every
// grant, an expired one beside a current one for the same dimension
// included) and applies it: plan, seats and term follow the current grants
// only; a current grant means active, none means ended (the lifecycle rules
// decide what a read may change). The read is AWS's truth at the time of
// reading, so it is dated now.
func (p *Processor) applyEntitlementsTx(tx *store.Tx, now time.Time, read *entitlementRead, source string, inboxID *uint) (uint, error) {
	ents, ref, productCode := read.ents, read.ref, read.productCode
	current, termEnd := entitlementTerm(ents, now)
	payload, _ := json.Marshal(map[string]any{"entitlements": ents})
	note := entitlementNote(ents, now)
	offer, err := tx.AWSOffer(productCode, true)
	if err != nil {
		return 0, err
	}
	seatPlan, seats := seatEntitlement(offer.Plans, ents, now)
	res, err := applyTx(tx, now, ref,
		lifecycle.Event{Kind: lifecycle.AWSEntitlements, At: now, EntitlementCurrent: current, TermEnd: termEnd,
			PlanID: seatPlan, Quantity: seats},
		subscriptions.Meta{Source: source, Actor: "aws", Payload: string(payload), InboxID: inboxID, Note: note},
		func(s *store.Subscription) {
			if offer.ID != 0 {
				s.OfferID = &offer.ID
			}
			s.AWSProductCode = productCode
		})
	if err != nil {
		return 0, err
	}
	if res.Subscription == nil {
		return 0, errors.New("the entitlements created no subscription")
	}
	subID := res.Subscription.ID
	return subID, storeEntitlements(tx, now, subID, ents)
}

// entitlementTerm says whether a read holds a current grant, and the term's
// end: the latest current grant's expiry, or when the last grant ended.
func entitlementTerm(ents []Entitlement, now time.Time) (bool, time.Time) {
	current := false
	var termEnd, lastEnd time.Time
	for _, e := range ents {
		if e.Current(now) {
			current = true
			if e.Expiration.After(termEnd) {
				termEnd = e.Expiration
			}
		}
		if e.Expiration.After(lastEnd) {
			lastEnd = e.Expiration
		}
	}
	if !current {
		termEnd = lastEnd // when it ended
	}
	return current, termEnd
}

// entitlementNote is the timeline's summary of a read.
func entitlementNote(ents []Entitlement, now time.Time) string {
	if len(ents) == 0 {
		return "no entitlements"
	}
	parts := make([]string, 0, len(ents))
	for _, e := range ents {
		p := e.Dimension + "=" + e.Value
		if !e.Expiration.IsZero() {
			p += " until " + e.Expiration.Format("2006-01-02")
		}
		if !e.Current(now) {
			p += " (expired)"
		}
		parts = append(parts, p)
	}
	return "entitlements: " + strings.Join(parts, ", ")
}

// storeEntitlements replaces a subscription's stored entitlements with a
// read, and emits entitlement.changed when the read changed them.
func storeEntitlements(tx *store.Tx, now time.Time, subID uint, ents []Entitlement) error {
	before, err := tx.AWSEntitlements(subID)
	if err != nil {
		return err
	}
	if err := tx.DeleteAWSEntitlements(subID); err != nil {
		return err
	}
	if entitlementsDiffer(before, ents) {
		view := make([]map[string]any, len(ents))
		for i, e := range ents {
			var exp *time.Time
			if !e.Expiration.IsZero() {
				x := e.Expiration.UTC()
				exp = &x
			}
			view[i] = map[string]any{"dimension": e.Dimension, "kind": e.Kind, "value": e.Value, "expires_at": exp, "current": e.Current(now)}
		}
		if err := emitSubscription(tx, now, subID, now, []string{webhooks.EntitlementChanged},
			map[string]any{"entitlements": view}); err != nil {
			return err
		}
	}
	for _, e := range ents {
		row := store.Entitlement{SubscriptionID: subID, Dimension: e.Dimension, Kind: e.Kind, Value: e.Value, UpdatedAt: now}
		if e.Kind == "integer" {
			v := e.Integer
			row.IntegerValue = &v
		}
		if !e.Expiration.IsZero() {
			x := e.Expiration
			row.ExpiresAt = &x
		}
		if err := tx.AddAWSEntitlement(&row); err != nil {
			return err
		}
	}
	return nil
}

// entitlementsDiffer reports whether a GetEntitlements read changed what
// was stored (dimension, value, expiry).
func entitlementsDiffer(before []store.Entitlement, now []Entitlement) bool {
	if len(before) != len(now) {
		return true
	}
	key := func(dim, val string, exp time.Time) string {
		return dim + "\x00" + val + "\x00" + exp.UTC().Format(time.RFC3339)
	}
	have := map[string]int{}
	for _, b := range before {
		var exp time.Time
		if b.ExpiresAt != nil {
			exp = *b.ExpiresAt
		}
		have[key(b.Dimension, b.Value, exp)]++
	}
	for _, e := range now {
		k := key(e.Dimension, e.Value, e.Expiration)
		if have[k] == 0 {
			return true
		}
		have[k]--
	}
	return false
}

// seatEntitlement finds the per-user plan a contract's current entitlements
// buy and its seats: the plan whose non-metered dimensions the customer is
// entitled to, the seats being the sum of those integer entitlements over
// the plan's dimensions. Only current grants count; when AWS lists one
// dimension twice, the larger current grant counts (an expired grant beside
// a renewed or upgraded one is history, not more seats).
func seatEntitlement(plans []store.Plan, ents []Entitlement, now time.Time) (string, int) {
	held := map[string]int64{}
	for _, e := range ents {
		if e.Current(now) && e.Kind == "integer" && e.Integer > 0 {
			held[e.Dimension] = max(held[e.Dimension], e.Integer)
		}
	}
	best, seats := "", 0
	for _, p := range plans {
		if !p.SeatBased {
			continue
		}
		n := int64(0)
		for _, d := range p.DimensionList() {
			if !d.Metered {
				n += held[d.Key]
			}
		}
		if n > int64(seats) && n <= 1<<31-1 {
			best, seats = p.PlanID, int(n)
		}
	}
	return best, seats
}

// RetryDue applies the failed AWS messages whose retry time has come.
func (p *Processor) RetryDue(ctx context.Context) {
	due, err := p.Store.DueInbox(ctx, SourceSQS, 100)
	if err != nil {
		p.Log.Error("inbox retry", "err", err)
		return
	}
	for i := range due {
		_ = p.Apply(ctx, &due[i])
	}
}

// newerOffer reports whether an event's AWS offer id should replace the
// stored one: AWS sends subscribe-success again with the new offer when a
// buyer accepts an upgrade or a renewal, and an older event must not undo it.
func newerOffer(s *store.Subscription, offerID string, at time.Time) bool {
	if offerID == "" || offerID == s.AWSOfferID {
		return false
	}
	return s.AWSOfferID == "" || at.IsZero() || !at.Before(s.StateChangedAt)
}

// setOffer stores a newer AWS offer id on a subscription.
func setOffer(tx *store.Tx, now time.Time, s *store.Subscription, offerID string, at time.Time) error {
	if !newerOffer(s, offerID, at) {
		return nil
	}
	return tx.UpdateSubscription(s.ID, 0, map[string]any{"aws_offer_id": offerID, "updated_at": now})
}
