package awsmp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
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
func upsertAgreement(tx *gorm.DB, now time.Time, action string, at time.Time, a *Agreement, productCode string, subID *uint) (*store.AWSAgreement, error) {
	var row store.AWSAgreement
	res := tx.Where("agreement_id = ?", a.ID).Limit(1).Find(&row)
	if res.Error != nil {
		return nil, res.Error
	}
	isNew := res.RowsAffected == 0
	if isNew {
		row = store.AWSAgreement{AgreementID: a.ID, CreatedAt: now}
	}
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
	if row.SubscriptionID == nil && subID != nil {
		v := *subID
		row.SubscriptionID = &v
	}
	if row.SubscriptionID == nil && row.PreviousAgreementID != "" {
		// A renewal or replacement continues the subscription of the
		// agreement it follows.
		var prev store.AWSAgreement
		if err := tx.Where("agreement_id = ?", row.PreviousAgreementID).Limit(1).Find(&prev).Error; err != nil {
			return nil, err
		}
		row.SubscriptionID = prev.SubscriptionID
	}
	row.UpdatedAt = now
	if isNew {
		return &row, tx.Create(&row).Error
	}
	return &row, tx.Save(&row).Error
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
	err = p.applyOnce(ctx, m, func(tx *gorm.DB) (store.InboxOutcome, error) {
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
	db := p.Store.R.WithContext(ctx)
	var row store.AWSAgreement
	if err := db.Where("agreement_id = ?", n.Agreement.ID).Limit(1).Find(&row).Error; err != nil {
		return nil, err
	}
	subID := row.SubscriptionID
	if subID == nil && n.Agreement.PreviousID != "" {
		var prev store.AWSAgreement
		if err := db.Where("agreement_id = ?", n.Agreement.PreviousID).Limit(1).Find(&prev).Error; err != nil {
			return nil, err
		}
		subID = prev.SubscriptionID
	}
	if subID == nil {
		return nil, nil
	}
	var sub store.Subscription
	if err := db.Preload("Offer").Limit(1).Find(&sub, *subID).Error; err != nil || sub.ID == 0 || sub.Offer == nil || !sub.Offer.Contract {
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
func (p *Processor) agreementTx(tx *gorm.DB, now, at time.Time, n Notification, meta subscriptions.Meta, out *agreementOutcome) error {
	row, err := upsertAgreement(tx, now, n.Action, at, n.Agreement, n.ProductCode, nil)
	if err != nil {
		return err
	}
	if row.SubscriptionID == nil {
		// Nothing to act on until License Updated names the license.
		return nil
	}
	var sub store.Subscription
	if err := tx.Preload("Offer").First(&sub, *row.SubscriptionID).Error; err != nil {
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
		res, err := subscriptions.ApplyTx(tx, now, ref, lifecycle.Event{Kind: lifecycle.AWSSubscribeSuccess, At: at,
			TermStart: n.Agreement.StartsAt, TermEnd: n.Agreement.EndsAt}, meta, nil)
		if err != nil || res.Subscription == nil {
			return err
		}
		return setOffer(tx, now, res.Subscription, row.OfferID, at)
	case AgreementAmended:
		return subscriptions.NoteTx(tx, now, sub.ID, "aws.agreement_amended", at, what+" amended"+paren(n.Agreement.Intent), meta)
	case AgreementEnding:
		summary := what + " is ending"
		if d := n.Agreement.DaysBeforeEnd; d != nil {
			summary = fmt.Sprintf("%s ends in %d days", what, *d)
		}
		switch n.Agreement.AutoRenewal {
		case "true":
			summary += " (auto-renewal on)"
		case "false":
			summary += " (auto-renewal off)"
		}
		return subscriptions.NoteTx(tx, now, sub.ID, "aws.agreement_ending", at, summary, meta)
	case AgreementEnded:
		return p.endAgreement(tx, now, row, &sub, at, meta, out)
	}
	return nil
}

// endAgreement applies an ended agreement to its linked subscription.
func (p *Processor) endAgreement(tx *gorm.DB, now time.Time, row *store.AWSAgreement, sub *store.Subscription, at time.Time, meta subscriptions.Meta, out *agreementOutcome) error {
	what := fmt.Sprintf("agreement %s ended (%s)", row.AgreementID, row.Status)
	revoke, known := RevokesAccess(row.Status)
	if !known {
		out.status, out.reason = store.InboxIgnored, fmt.Sprintf("agreement status %q is not one Marketgate knows; access was not revoked", row.Status)
		return subscriptions.NoteTx(tx, now, sub.ID, "aws.agreement_ended", at, what+": unknown status, access kept — check the agreement in AWS Marketplace", meta)
	}
	if !revoke {
		return subscriptions.NoteTx(tx, now, sub.ID, "aws.agreement_ended", at, what+": superseded, access kept", meta)
	}
	var others []string
	if err := tx.Model(&store.AWSAgreement{}).Where("subscription_id = ? AND agreement_id <> ? AND ended_at IS NULL", sub.ID, row.AgreementID).
		Pluck("agreement_id", &others).Error; err != nil {
		return err
	}
	if len(others) > 0 {
		return subscriptions.NoteTx(tx, now, sub.ID, "aws.agreement_ended", at,
			what+": access kept, agreement "+strings.Join(others, ", ")+" still covers it", meta)
	}
	meta.Note = what
	_, err := subscriptions.ApplyTx(tx, now, subscriptions.Ref{ID: sub.ID}, lifecycle.Event{Kind: lifecycle.AWSUnsubscribeSuccess, At: at}, meta, nil)
	return err
}

// linkAgreement is called inside License Updated's transaction: it links
// the agreement to the subscription and applies an end that arrived first.
func (p *Processor) linkAgreement(tx *gorm.DB, now time.Time, n Notification, subID uint, meta subscriptions.Meta) error {
	if n.Agreement == nil {
		return nil
	}
	at := n.At
	if at.IsZero() {
		at = now
	}
	var linked []uint
	if err := tx.Model(&store.AWSAgreement{}).Where("agreement_id = ? AND subscription_id IS NOT NULL", n.Agreement.ID).
		Pluck("subscription_id", &linked).Error; err != nil {
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
	var sub store.Subscription
	if err := tx.First(&sub, subID).Error; err != nil {
		return err
	}
	if row.EndedAt == nil {
		// A Created that came first named the offer.
		return setOffer(tx, now, &sub, row.OfferID, at)
	}
	var out agreementOutcome
	meta.Note = ""
	return p.endAgreement(tx, now, row, &sub, *row.EndedAt, meta, &out)
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
