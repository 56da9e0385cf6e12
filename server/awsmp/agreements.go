package awsmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Agreement tracking. Purchase Agreement events name the agreement and the
// buyer's account but no license, so they cannot find a subscription on
// their own: License Updated is the only event that names both. Every
// agreement event is recorded; once License Updated has linked the
// agreement to a subscription (or a renewal inherited the link from the
// agreement it renews), the events act on it:
//
//   - Created: the subscription is active (a free product may send nothing else).
//   - Amended: a note; for contracts every event but Ending also reads the
//     entitlements again, and the state follows them.
//   - Ended with CANCELLED, EXPIRED, TERMINATED: the subscription ends, unless
//     another agreement linked to it is still running. RENEWED, REPLACED and
//     the like are noted and change nothing; an unknown status is noted and
//     changes nothing, so a new AWS enum value never revokes a paying customer.
//   - Ending: a timeline note for the seller.
//
// Events can arrive in any order: an Ended that arrives before the link is
// applied (at its own time) when License Updated links the agreement.

// upsertAgreement records what an event said about an agreement and returns
// the stored row. subID links the agreement when it is not linked yet.
func upsertAgreement(tx *store.Tx, now time.Time, action string, at time.Time, a *Agreement, productCode string, subID *uint) (*store.AWSAgreement, error) {
	// Values are stored as AWS sent them, cut to their columns' widths
	// (the inbox keeps the whole message): an unexpected long enum value
	// must not fail the message on a database that enforces widths.
	c := *a
	c.ID, c.Status, c.Intent, c.AccountID = clip(c.ID, 128), clip(c.Status, 32), clip(c.Intent, 32), clip(c.AccountID, 32)
	c.OfferID, c.PreviousID, productCode = clip(c.OfferID, 255), clip(c.PreviousID, 128), clip(productCode, 255)
	a = &c
	row, err := tx.AWSAgreement(a.ID)
	if err != nil {
		return nil, err
	}
	if row.ID == 0 {
		row = store.AWSAgreement{AgreementID: a.ID, CreatedAt: now}
	}
	mergeAgreement(&row, action, at, a, productCode)
	if row.SubscriptionID == nil && subID != nil {
		v := *subID
		row.SubscriptionID = &v
	}
	if row.SubscriptionID == nil && row.PreviousAgreementID != "" {
		// A renewal or replacement continues the subscription of the
		// agreement it follows.
		prev, err := tx.AWSAgreement(row.PreviousAgreementID)
		if err != nil {
			return nil, err
		}
		row.SubscriptionID = prev.SubscriptionID
	}
	row.UpdatedAt = now
	return &row, tx.SaveAWSAgreement(&row)
}

// mergeAgreement writes what an event says of an agreement over its row:
// fields it gives (an empty one keeps what is stored), intent and status
// from the newest event, an Ended status final.
func mergeAgreement(row *store.AWSAgreement, action string, at time.Time, a *Agreement, productCode string) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&row.AccountID, a.AccountID)
	set(&row.ProductCode, productCode)
	set(&row.OfferID, a.OfferID)
	set(&row.PreviousAgreementID, a.PreviousID)
	set(&row.AutoRenewal, a.AutoRenewal)
	// Intent and status follow the newest event; an Ended status is final.
	newer := row.LastEventAt == nil || !at.Before(*row.LastEventAt)
	if action == AgreementEnded {
		row.Status = a.Status
		if row.EndedAt == nil || at.Before(*row.EndedAt) {
			t := at
			row.EndedAt = &t
		}
	} else if newer && row.EndedAt == nil {
		set(&row.Status, a.Status)
	}
	if newer {
		set(&row.Intent, a.Intent)
		t := at
		row.LastEventAt = &t
	}
	if !a.StartsAt.IsZero() {
		t := a.StartsAt
		row.StartsAt = &t
	}
	if !a.EndsAt.IsZero() {
		t := a.EndsAt
		row.EndsAt = &t
	}
	if a.DaysBeforeEnd != nil {
		v := *a.DaysBeforeEnd
		row.DaysBeforeEnd = &v
	}
}

// agreementOutcome is what applying an agreement event did.
type agreementOutcome struct {
	subID   *uint
	status  string // inbox status
	reason  string // for ignored messages
	refresh bool   // read the contract's entitlements after the commit
	ref     subscriptions.Ref
	product string
}

// applyAgreement handles a Purchase Agreement event.
func (p *Processor) applyAgreement(ctx context.Context, m *store.InboxMessage, n Notification) error {
	now := p.Store.Now()
	at := n.At
	if at.IsZero() {
		at = now
	}
	meta := subscriptions.Meta{Source: SourceSQS, Actor: "aws", Payload: m.Body, InboxID: &m.ID}
	read, err := p.agreementEntitlements(ctx, n)
	if err != nil {
		return p.retryLater(ctx, m, err)
	}
	var out agreementOutcome
	err = p.applyOnce(ctx, m, func(tx *store.Tx) (store.InboxOutcome, error) {
		out = agreementOutcome{status: store.InboxProcessed}
		if err := p.agreementTx(tx, now, at, n, meta, &out); err != nil {
			return store.InboxOutcome{}, err
		}
		if out.refresh && read != nil && out.subID != nil && read.subID == *out.subID {
			if _, err := p.applyEntitlementsTx(tx, now, &read.entitlementRead, SourceSQS, &m.ID); err != nil {
				return store.InboxOutcome{}, err
			}
			out.refresh = false
		}
		return store.InboxOutcome{Status: out.status, Error: out.reason, SubscriptionID: out.subID}, nil
	})
	if err != nil {
		return err
	}
	if out.refresh {
		// The agreement was linked to its subscription after the read above
		// (License Updated committed meanwhile): read again. Applying a read
		// twice changes nothing.
		if _, err := p.RefreshEntitlements(ctx, out.ref, out.product, SourceSQS, &m.ID); err != nil {
			p.Log.Warn("aws agreement: entitlements not read; the next entitlement event reads them", "inbox_id", m.ID, "err", err)
		}
	}
	return nil
}

// agreementEntitlements reads, before the transaction, the entitlements of
// the contract subscription an agreement event acts on (nil when it acts on
// none, or not on a contract).
func (p *Processor) agreementEntitlements(ctx context.Context, n Notification) (*linkedRead, error) {
	if n.Action == AgreementEnding {
		return nil, nil
	}
	db := p.Store.Reads(ctx)
	row, err := db.AWSAgreement(n.Agreement.ID)
	if err != nil {
		return nil, err
	}
	subID := row.SubscriptionID
	if subID == nil && n.Agreement.PreviousID != "" {
		prev, err := db.AWSAgreement(n.Agreement.PreviousID)
		if err != nil {
			return nil, err
		}
		subID = prev.SubscriptionID
	}
	if subID == nil {
		return nil, nil
	}
	sub, err := db.AWSSubscription(*subID, true)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || sub.Offer == nil || !sub.Offer.Contract {
		return nil, err
	}
	r, err := p.readEntitlements(ctx, subscriptions.Ref{AWSCustomerAccountID: sub.AWSCustomerAccountID, AWSLicenseArn: sub.AWSLicenseArn,
		AWSCustomerIdentifier: sub.AWSCustomerIdentifier, AWSProductCode: sub.AWSProductCode}, sub.AWSProductCode)
	if err != nil {
		return nil, err
	}
	return &linkedRead{entitlementRead: *r, subID: sub.ID}, nil
}

// linkedRead is an entitlement read for a known subscription.
type linkedRead struct {
	entitlementRead
	subID uint
}

// agreementTx applies a Purchase Agreement event inside the transaction
// that marks its message done.
func (p *Processor) agreementTx(tx *store.Tx, now, at time.Time, n Notification, meta subscriptions.Meta, out *agreementOutcome) error {
	row, err := upsertAgreement(tx, now, n.Action, at, n.Agreement, n.ProductCode, nil)
	if err != nil {
		return err
	}
	if row.SubscriptionID == nil {
		if err := noteUnlinked(tx, now, at, n, row, meta, out); err != nil {
			return err
		}
		return trackRenewal(tx, now, at, n, out.subID, meta)
	}
	if err := trackRenewal(tx, now, at, n, row.SubscriptionID, meta); err != nil {
		return err
	}
	sub, err := tx.AWSSubscription(*row.SubscriptionID, true)
	if err != nil {
		return err
	}
	out.subID = &sub.ID
	ref := subscriptions.Ref{ID: sub.ID}
	what := fmt.Sprintf("agreement %s", row.AgreementID)
	if sub.Offer != nil && sub.Offer.Contract && n.Action != AgreementEnding {
		// A contract's access follows its entitlements: they are applied
		// after the event (read before the transaction), so the state is
		// AWS's own answer whatever the order and the precision of the
		// events' times.
		out.refresh = true
		out.ref = subscriptions.Ref{AWSCustomerAccountID: sub.AWSCustomerAccountID, AWSLicenseArn: sub.AWSLicenseArn,
			AWSCustomerIdentifier: sub.AWSCustomerIdentifier, AWSProductCode: sub.AWSProductCode}
		out.product = sub.AWSProductCode
	}
	switch n.Action {
	case AgreementCreated:
		meta.Note = what + " created" + paren(n.Agreement.Intent)
		res, err := applyTx(tx, now, ref, lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: at,
			TermStart: n.Agreement.StartsAt, TermEnd: n.Agreement.EndsAt}, meta, nil)
		if err != nil || res.Subscription == nil {
			return err
		}
		return setOffer(tx, now, res.Subscription, row.OfferID, at)
	case AgreementAmended:
		return noteTx(tx, now, sub.ID, "aws.agreement_amended", at, what+" amended"+paren(n.Agreement.Intent), meta)
	case AgreementEnding:
		_, err := noteOnce(tx, now, sub.ID, KindAgreementEnding, at, endingSummary(row.AgreementID, n.Agreement), meta, eventData(n))
		return err
	case AgreementEnded:
		return p.endAgreement(tx, now, row, sub, at, meta, out)
	}
	return nil
}

// noteUnlinked handles an event of an agreement not linked yet: nothing to
// act on until License Updated names the license. Ending and Amended
// concern a running agreement: shown on the buyer's subscription when the
// license or account names exactly one (a note only: the agreement stays
// unlinked).
func noteUnlinked(tx *store.Tx, now, at time.Time, n Notification, row *store.AWSAgreement, meta subscriptions.Meta, out *agreementOutcome) error {
	if n.Action != AgreementEnding && n.Action != AgreementAmended {
		return nil
	}
	id, err := findSubscription(tx, n)
	if err != nil || id == nil {
		return err
	}
	out.subID = id
	kind, summary := "aws.agreement_amended", fmt.Sprintf("agreement %s amended%s", row.AgreementID, paren(n.Agreement.Intent))
	if n.Action == AgreementEnding {
		kind, summary = KindAgreementEnding, endingSummary(row.AgreementID, n.Agreement)
	}
	_, err = noteOnce(tx, now, *id, kind, at, summary, meta, eventData(n))
	return err
}

// endAgreement applies an ended agreement to its linked subscription.
func (p *Processor) endAgreement(tx *store.Tx, now time.Time, row *store.AWSAgreement, sub *store.Subscription, at time.Time, meta subscriptions.Meta, out *agreementOutcome) error {
	what := fmt.Sprintf("agreement %s ended (%s)", row.AgreementID, row.Status)
	revoke, known := RevokesAccess(row.Status)
	if !known {
		out.status, out.reason = store.InboxIgnored, fmt.Sprintf("agreement status %q is not one Marketgate knows; access was not revoked", row.Status)
		return noteTx(tx, now, sub.ID, "aws.agreement_ended", at, what+": unknown status, access kept — check the agreement in AWS Marketplace", meta)
	}
	if !revoke {
		return noteTx(tx, now, sub.ID, "aws.agreement_ended", at, what+": superseded, access kept", meta)
	}
	others, err := tx.OtherRunningAWSAgreements(sub.ID, row.AgreementID)
	if err != nil {
		return err
	}
	if len(others) > 0 {
		return noteTx(tx, now, sub.ID, "aws.agreement_ended", at,
			what+": access kept, agreement "+strings.Join(others, ", ")+" still covers it", meta)
	}
	meta.Note = what
	_, err = applyTx(tx, now, subscriptions.Ref{ID: sub.ID}, lifecycle.Event{Kind: lifecycle.AWSUnsubscribeSuccess, At: at}, meta, nil)
	return err
}

// linkAgreement is called inside License Updated's transaction: it links
// the agreement to the subscription and applies an end that arrived first.
func (p *Processor) linkAgreement(tx *store.Tx, now time.Time, n Notification, subID uint, meta subscriptions.Meta) error {
	if n.Agreement == nil {
		return nil
	}
	at := n.At
	if at.IsZero() {
		at = now
	}
	linked, err := tx.AWSAgreementLinks(n.Agreement.ID)
	if err != nil {
		return err
	}
	if len(linked) > 0 && linked[0] != subID {
		p.Log.Warn("aws agreement already linked to another subscription", "agreement", n.Agreement.ID,
			"linked_subscription", linked[0], "license_subscription", subID)
	}
	// License Updated says nothing of the agreement's status: record only the link.
	a := *n.Agreement
	a.Status, a.Intent = "", ""
	row, err := upsertAgreement(tx, now, "License Updated", at, &a, n.ProductCode, &subID)
	if err != nil {
		return err
	}
	if len(linked) > 0 {
		return nil // linked before: its events were applied then
	}
	sub, err := tx.AWSSubscription(subID, false)
	if err != nil {
		return err
	}
	if row.EndedAt == nil {
		// A Created that came first named the offer.
		return setOffer(tx, now, sub, row.OfferID, at)
	}
	var out agreementOutcome
	meta.Note = ""
	return p.endAgreement(tx, now, row, sub, *row.EndedAt, meta, &out)
}

// endingSummary is the note of Purchase Agreement Ending (sent 180, 120,
// 90, 60 and 30 days before the agreement ends).
func endingSummary(id string, a *Agreement) string {
	summary := fmt.Sprintf("agreement %s is ending", id)
	if d := a.DaysBeforeEnd; d != nil {
		summary = fmt.Sprintf("agreement %s ends in %d days", id, *d)
	}
	if !a.EndsAt.IsZero() {
		summary += " (on " + a.EndsAt.Format("2006-01-02") + ")"
	}
	return summary + autoRenewal(a)
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// lifecycleAgreement are the Purchase Agreement events that can change a
// linked subscription's state.
var lifecycleAgreement = map[string]bool{AgreementCreated: true, AgreementAmended: true, AgreementEnded: true, AgreementEnding: true}

// findSubscription finds the subscription an event is about, without
// creating one: by the agreement (once License Updated linked it), by the
// license ARN, then by the legacy identity, then by the buyer's account
// (and product) when that names exactly one subscription still running
// (or, failing that, exactly one at all). It answers nil when nothing
// matches or the account holds several candidates: a note is never put on
// a guessed subscription.
func findSubscription(tx *store.Tx, n Notification) (*uint, error) {
	if n.Agreement != nil && n.Agreement.ID != "" {
		ids, err := tx.AWSAgreementLinks(n.Agreement.ID)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return &ids[0], nil
		}
	}
	acct := n.Ref.AWSCustomerAccountID
	if acct == "" && n.Agreement != nil {
		acct = n.Agreement.AccountID
	}
	for _, by := range []struct {
		key            store.AWSKey
		value, product string
	}{
		{store.AWSByLicenseArn, n.Ref.AWSLicenseArn, ""},
		{store.AWSByCustomerIdentifier, n.Ref.AWSCustomerIdentifier, n.ProductCode},
		{store.AWSByAccount, acct, n.ProductCode},
	} {
		if by.value == "" {
			continue
		}
		subs, err := tx.AWSSubscriptionStates(by.key, by.value, by.product)
		if err != nil {
			return nil, err
		}
		if id := onlyCandidate(subs); id != nil {
			return id, nil
		}
	}
	return nil, nil
}

// onlyCandidate is the one subscription still running among subs, or the
// only one at all; nil when there are several (or none).
func onlyCandidate(subs []store.Subscription) *uint {
	var running []uint
	for _, s := range subs {
		if s.State != "ended" && s.State != "failed" {
			running = append(running, s.ID)
		}
	}
	switch {
	case len(running) == 1:
		return &running[0]
	case len(running) == 0 && len(subs) == 1:
		return &subs[0].ID
	}
	return nil
}

// noteOnce writes an event's timeline note unless the same note is there
// already (AWS sends the Manufacturer and the Proposer variant of one
// event, with their own ids: the second changes nothing), and emits the
// webhook event of the seller-facing kinds. It reports whether it wrote.
func noteOnce(tx *store.Tx, now time.Time, subID uint, kind string, at time.Time, summary string, meta subscriptions.Meta, data map[string]any) (bool, error) {
	seen, err := tx.TimelineNoteExists(subID, kind, at, summary)
	if err != nil {
		return false, err
	}
	if seen {
		return false, nil
	}
	if err := noteTx(tx, now, subID, kind, at, summary, meta); err != nil {
		return false, err
	}
	if t := webhookFor[kind]; t != "" {
		if data == nil {
			data = map[string]any{}
		}
		data["summary"] = summary
		if err := emitSubscription(tx, now, subID, at, []string{t}, data); err != nil {
			return false, err
		}
	}
	return true, nil
}

// webhookFor is the outbound event type of the notes a seller must act on.
var webhookFor = map[string]string{
	KindAgreementEnding:    webhooks.AgreementEnding,
	KindRenewalUpcoming:    webhooks.AgreementRenewalUpcoming,
	KindAdvisoryIssued:     webhooks.AgreementAdvisoryIssued,
	KindDisbursementPaused: webhooks.AgreementDisbursementPaused,
	KindRenewalTerms:       webhooks.AgreementRenewalTermsFinalized,
	KindAutoRenewalOff:     webhooks.AgreementAutoRenewalOff,
}

// eventData is the "agreement" part of an agreement webhook event.
func eventData(n Notification) map[string]any {
	ag := map[string]any{"detail_type": n.Action}
	if a := n.Agreement; a != nil {
		ag["id"] = a.ID
		if a.DaysBeforeEnd != nil {
			ag["days_before_end"] = *a.DaysBeforeEnd
		}
		if !a.EndsAt.IsZero() {
			ag["ends_at"] = a.EndsAt
		}
		if a.AutoRenewal != "" {
			ag["auto_renewal"] = a.AutoRenewal == "true"
		}
	}
	return map[string]any{"agreement": ag, "aws_event_id": strings.TrimPrefix(n.DedupKey, "event:")}
}

// applyNote shows an event that changes no state on its subscription's
// timeline: the agreement events besides the lifecycle ones, and unknown
// detail types and SNS actions. It never fails a message for want of a
// subscription: with none found the message is kept, processed, and
// listed in the notification log.
func (p *Processor) applyNote(ctx context.Context, m *store.InboxMessage, n Notification) error {
	now := p.Store.Now()
	at := n.At
	if at.IsZero() {
		at = m.ReceivedAt
	}
	if at.IsZero() {
		at = now
	}
	status, reason := store.InboxProcessed, ""
	if !n.Note.Known {
		status, reason = store.InboxIgnored, n.Ignore
	}
	var subID *uint
	err := p.Store.InTx(ctx, func(tx *store.Tx) error {
		id, err := findSubscription(tx, n)
		if err != nil || id == nil {
			if err == nil && n.Note.Known {
				reason = "no subscription matches this event's agreement, license or account yet; it is kept here"
			}
			return err
		}
		subID = id
		meta := subscriptions.Meta{Source: SourceSQS, Actor: "aws", Payload: m.Body, InboxID: &m.ID}
		if _, err = noteOnce(tx, now, *id, n.Note.Kind, at, n.Note.Summary, meta, eventData(n)); err != nil {
			return err
		}
		if err := trackRenewal(tx, now, at, n, id, meta); err != nil {
			return err
		}
		return applyMoneyEventTx(tx, n.Money)
	})
	if err != nil {
		return p.retryLater(ctx, m, err)
	}
	return p.Store.FinishInbox(ctx, m.ID, status, reason, subID, nil)
}
