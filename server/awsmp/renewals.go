package awsmp

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// Renewals. What AWS says of an agreement's end and renewal is kept per
// agreement (store.AgreementRenewal) for the renewals view:
//
//   - Purchase Agreement Ending: "Sent 180, 120, 90, 60, and 30 days before
//     a purchase agreement expires" (Buyer Guide, agreement EventBridge
//     events), with daysBeforeEndTime and autoRenewalEnabled (§6.5).
//   - Purchase Agreement Amended: autoRenewalEnabled when a party changed it.
//   - Purchase Agreement Renewal Upcoming: renewalSummary.lockoutStartTime,
//     "the renewal decision deadline – the last day you can turn
//     auto-renewal off (or back on) before the renewal is confirmed".
//   - Purchase Agreement Renewal Terms Finalized: "Sent after the seller's
//     adjustment deadline passes, for percentage-range renewals, once the
//     renewal price uplift is final".
//
// Who turned auto-renewal off: "The EnableAutoRenew field reflects only
// the acceptor's preference" (EndTimeBehavior), so an event saying
// autoRenewalEnabled false means the buyer did, unless it names the
// proposer's opt-out (reasonCode PROPOSER_RENEW_OPTED_OUT, which "takes
// precedence over all others"); reading the agreement (DescribeAgreement's
// endTimeBehavior) corrects it. Turning it off writes one timeline note
// (alert auto_renewal_off, webhook agreement.auto_renewal_off): the
// Manufacturer and Proposer variants of one event, and a redelivery, find
// it off already and change nothing.

// KindAutoRenewalOff is the timeline kind of "auto-renewal was turned off".
const KindAutoRenewalOff = "aws.auto_renewal_off"

// renewalEvents are the detail types that update the renewals view.
var renewalEvents = map[string]bool{AgreementEnding: true, AgreementAmended: true, RenewalUpcoming: true, RenewalTermsFinalized: true}

// renewalDetail is what the renewals read from an event's raw detail
// beyond the agreement fields.
type renewalDetail struct {
	Detail struct {
		RenewalSummary struct {
			LockoutStartTime any    `json:"lockoutStartTime"`
			ReasonCode       string `json:"reasonCode"`
		} `json:"renewalSummary"`
		EndTimeBehavior struct {
			ReasonCode string `json:"reasonCode"`
		} `json:"endTimeBehavior"`
		Agreement struct {
			EndTimeBehavior struct {
				ReasonCode string `json:"reasonCode"`
			} `json:"endTimeBehavior"`
		} `json:"agreement"`
	} `json:"detail"`
}

func (d renewalDetail) reasonCode() string {
	for _, c := range []string{d.Detail.EndTimeBehavior.ReasonCode, d.Detail.Agreement.EndTimeBehavior.ReasonCode, d.Detail.RenewalSummary.ReasonCode} {
		if c != "" {
			return c
		}
	}
	return ""
}

// trackRenewal records a renewal-related event on its agreement's row, and
// notes on the subscription (subID, when known) that auto-renewal was
// turned off.
func trackRenewal(tx *store.Tx, now, at time.Time, n Notification, subID *uint, meta subscriptions.Meta) error {
	a := n.Agreement
	if a == nil || a.ID == "" || !renewalEvents[n.Action] {
		return nil
	}
	var d renewalDetail
	_ = json.Unmarshal([]byte(meta.Payload), &d) // optional fields; the event was read already
	row, err := tx.AgreementRenewal(clip(a.ID, 128))
	if err != nil {
		return err
	}
	if row.ID == 0 {
		row = store.AgreementRenewal{AgreementID: clip(a.ID, 128), CreatedAt: now}
	}
	if subID != nil {
		v := *subID
		row.SubscriptionID = &v
	}
	newest := row.LastEventAt == nil || !at.Before(*row.LastEventAt)
	mergeRenewal(&row, n.Action, at, a, d, newest)
	turnedOff := newest && applyAutoRenew(&row, n.Action, a.AutoRenewal, d, at)
	if newest {
		t := at
		row.LastEventAt = &t
	}
	row.UpdatedAt = now
	if err := tx.SaveAgreementRenewal(&row); err != nil {
		return err
	}
	if !turnedOff || row.SubscriptionID == nil {
		return nil
	}
	data := eventData(n)
	data["turned_off_by"] = row.TurnedOffBy
	_, err = noteOnce(tx, now, *row.SubscriptionID, KindAutoRenewalOff, at,
		fmt.Sprintf("auto-renewal of agreement %s was turned off by the %s%s", a.ID, row.TurnedOffBy, endsOn(row.EndsAt)), meta, data)
	return err
}

// applyAutoRenew writes the event's autoRenewalEnabled over the row and
// tells whether someone turned auto-renewal off: off after on, or an
// amendment that says off.
func applyAutoRenew(row *store.AgreementRenewal, action, autoRenewal string, d renewalDetail, at time.Time) bool {
	if autoRenewal == "" || autoRenewal == row.AutoRenew {
		return false
	}
	turnedOff := autoRenewal == "false" && (row.AutoRenew == "true" || (row.AutoRenew == "" && action == AgreementAmended))
	row.AutoRenew = autoRenewal
	row.TurnedOffBy, row.TurnedOffAt = "", nil
	if autoRenewal == "false" {
		row.TurnedOffBy = "buyer"
		if TurnedOffBy(d.reasonCode()) == "seller" {
			row.TurnedOffBy = "seller"
		}
		t := at
		row.TurnedOffAt = &t
	}
	return turnedOff
}

// mergeRenewal writes what one event says over the row.
func mergeRenewal(row *store.AgreementRenewal, action string, at time.Time, a *Agreement, d renewalDetail, newest bool) {
	t := at
	if !a.EndsAt.IsZero() && newest {
		e := a.EndsAt
		row.EndsAt = &e
	}
	switch action {
	case AgreementEnding:
		if a.DaysBeforeEnd != nil && (row.EndingAt == nil || !at.Before(*row.EndingAt)) {
			v := *a.DaysBeforeEnd
			row.DaysBeforeEnd, row.EndingAt = &v, &t
		}
	case RenewalUpcoming:
		row.RenewalUpcomingAt = &t
		if l := anyTime(d.Detail.RenewalSummary.LockoutStartTime); !l.IsZero() {
			row.LockoutAt = &l
		}
	case RenewalTermsFinalized:
		row.TermsFinalizedAt = &t
	}
}

func endsOn(t *time.Time) string {
	if t == nil {
		return ""
	}
	return "; the agreement ends on " + t.Format("2006-01-02")
}

// correctTurnedOffBy writes who turned auto-renewal off as AWS's
// DescribeAgreement says (its reason code), when the renewals view has
// the agreement.
func correctTurnedOffBy(tx *store.Tx, now time.Time, v *AgreementDescription) error {
	by := v.Renewal.TurnedOffBy
	row, err := tx.AgreementRenewal(v.AgreementID)
	if err != nil || row.ID == 0 {
		return err
	}
	changed := false
	if by != "" && row.TurnedOffBy != by {
		row.TurnedOffBy, row.AutoRenew, changed = by, "false", true
	}
	if v.EndsAt != nil && (row.EndsAt == nil || !row.EndsAt.Equal(*v.EndsAt)) {
		e := *v.EndsAt
		row.EndsAt, changed = &e, true
	}
	if !changed {
		return nil
	}
	row.UpdatedAt = now
	return tx.SaveAgreementRenewal(&row)
}
