// Package webhooks tells the seller's systems what happened: events are
// written to an outbox in the same transaction as the change that causes
// them (so a crash can delay a delivery but never lose it), fanned out to
// the endpoints that listen, and delivered signed the Standard Webhooks
// way, in order per subscription, with retries for more than a day.
package webhooks

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// Event types.
const (
	SubscriptionCreated            = "subscription.created"
	SubscriptionActivated          = "subscription.activated"
	SubscriptionPlanChanged        = "subscription.plan_changed"
	SubscriptionQuantityChanged    = "subscription.quantity_changed"
	SubscriptionSuspended          = "subscription.suspended"
	SubscriptionReinstated         = "subscription.reinstated"
	SubscriptionUnsubscribePending = "subscription.unsubscribe_pending"
	SubscriptionEnded              = "subscription.ended"
	SubscriptionFailed             = "subscription.failed"
	EntitlementChanged             = "entitlement.changed"
	SeatAssigned                   = "seat.assigned"
	SeatReleased                   = "seat.released"
	MeteringRecordRejected         = "metering.record_rejected"
	MeteringRecordExpiring         = "metering.record_expiring"
	MeteringRecordExpired          = "metering.record_expired"
	AgreementEnding                = "agreement.ending"
	AgreementRenewalUpcoming       = "agreement.renewal_upcoming"
	AgreementAdvisoryIssued        = "agreement.advisory_issued"
	AgreementDisbursementPaused    = "agreement.disbursement_paused"
	AgreementRenewalTermsFinalized = "agreement.renewal_terms_finalized"
	AgreementAutoRenewalOff        = "agreement.auto_renewal_off"

	AgreementRequestUpdated = "agreement.request_updated"
	ChangeRequestCreated    = "change_request.created"
	ChangeRequestApproved   = "change_request.approved"
	ChangeRequestDeclined   = "change_request.declined"
	Test                    = "webhook.test"
	ConsentGranted          = "consent.granted"
	ConsentDeclined         = "consent.declined"
)

// Types lists the event types an endpoint may choose, with what they mean.
var Types = []views.EventType{
	{Type: SubscriptionCreated, Description: "a subscription was recorded for the first time (registration, landing page, notification or webhook)"},
	{Type: SubscriptionActivated, Description: "a subscription became active: the customer may use the product"},
	{Type: SubscriptionPlanChanged, Description: "the plan changed"},
	{Type: SubscriptionQuantityChanged, Description: "the quantity (seats) changed"},
	{Type: SubscriptionSuspended, Description: "Microsoft suspended the subscription (for example an unpaid bill); data is kept"},
	{Type: SubscriptionReinstated, Description: "a suspended subscription is active again"},
	{Type: SubscriptionUnsubscribePending, Description: "an AWS customer cancelled; access continues until the subscription ends"},
	{Type: SubscriptionEnded, Description: "the subscription ended: remove access"},
	{Type: SubscriptionFailed, Description: "the marketplace failed the subscription (for example the payment)"},
	{Type: EntitlementChanged, Description: "an AWS contract's entitlements changed (upgrade, renewal, expiry)"},
	{Type: SeatAssigned, Description: "a customer admin (or the seat check) gave a user a seat"},
	{Type: SeatReleased, Description: "a user's seat was released"},
	{Type: MeteringRecordRejected, Description: "the marketplace refused an hourly metering record, or holds another quantity for its hour"},
	{Type: MeteringRecordExpiring, Description: "an hourly metering record is close to the end of the marketplace's 24-hour window"},
	{Type: MeteringRecordExpired, Description: "an hourly metering record can no longer be sent; settle it another way"},
	{Type: AgreementEnding, Description: "AWS: an agreement ends in 180, 120, 90, 60 or 30 days (days_before_end; auto_renewal says whether it renews)"},
	{Type: AgreementRenewalUpcoming, Description: "AWS: an agreement is about to renew; the buyer can still change auto-renewal until the decision deadline"},
	{Type: AgreementAdvisoryIssued, Description: "AWS issued an advisory on an agreement: check it in AWS Marketplace"},
	{Type: AgreementDisbursementPaused, Description: "AWS paused disbursements (payments to you) for an agreement until the cause is resolved"},
	{Type: AgreementRenewalTermsFinalized, Description: "AWS: a percentage-range renewal's price uplift is final (the seller's adjustment deadline passed)"},
	{Type: AgreementAutoRenewalOff, Description: "AWS: auto-renewal of an agreement was turned off (turned_off_by: buyer or seller); it expires at its end unless renewed"},

	{Type: AgreementRequestUpdated, Description: "AWS: a refund, cancellation request or payment request changed status (data.agreement_request: kind, status, aws_status, summary); an approved cancellation ends the agreement"},
	{Type: ChangeRequestCreated, Description: "a customer admin asked for a change (plan, seats, unsubscribe) that needs your approval (data.change_request)"},
	{Type: ChangeRequestApproved, Description: "a change request was approved: Microsoft performs it (operation_id), or on AWS you send a private offer"},
	{Type: ChangeRequestDeclined, Description: "a change request was declined; answer holds the reason the customer sees"},
	{Type: ConsentGranted, Description: "an administrator of a Microsoft customer's tenant granted the app's extra permissions (Entra admin consent)"},
	{Type: ConsentDeclined, Description: "an administrator of a Microsoft customer's tenant declined the app's extra permissions (or Entra refused)"},
	{Type: Test, Description: "sent by the portal's “Send test event” button"},
}

// KnownType reports whether t is an event type.
func KnownType(t string) bool {
	return views.HasType(Types, t)
}

// listens reports whether an endpoint's event types include t ("*" = all
// but the test event, which goes only where it is sent).
func listens(types, t string) bool {
	for _, x := range strings.Split(types, ",") {
		if x = strings.TrimSpace(x); x == t || (x == "*" && t != Test) {
			return true
		}
	}
	return false
}

// NewEventID returns a new event id ("evt_" and 32 hex digits).
func NewEventID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "evt_" + hex.EncodeToString(b)
}

// Event is what Emit writes.
type Event struct {
	Type           string
	SubscriptionID *uint // deliveries of one subscription's events keep their order
	CustomerID     *uint
	At             time.Time
	Data           any // marshalled as the event's "data"
	// Only, when set, limits the fan-out to one endpoint (the test event).
	Only uint
}

// Emit writes an event to the outbox and one delivery per enabled endpoint
// that listens to its type, inside the caller's transaction. Nothing is
// written when no endpoint listens.
func Emit(tx *store.Tx, now time.Time, e Event) error {
	eps, err := endpoints(tx, e.Only)
	if err != nil {
		return err
	}
	return emitTo(tx, now, e, eps.targets(e.Type, e.Only != 0))
}

// listeners is the enabled endpoints and the event types each listens to.
type listeners []store.WebhookEndpoint

func endpoints(tx *store.Tx, only uint) (listeners, error) {
	return tx.WebhookListeners(only)
}

// targets are the endpoints an event of type t goes to (all of them when
// the event was sent to one endpoint on purpose).
func (l listeners) targets(t string, all bool) []uint {
	var out []uint
	for _, ep := range l {
		if all || listens(ep.EventTypes, t) {
			out = append(out, ep.ID)
		}
	}
	return out
}

// emitTo writes the event and its deliveries to the given endpoints.
func emitTo(tx *store.Tx, now time.Time, e Event, targets []uint) error {
	// Every event is kept for the read API's pull feed (GET /api/v1/events),
	// also when no endpoint listens; a test event, for one endpoint only,
	// is not part of the feed.
	if len(targets) == 0 && (e.Only != 0 || e.Type == Test) {
		return nil
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return err
	}
	at := e.At
	if at.IsZero() {
		at = now
	}
	ev := store.Event{EventID: NewEventID(), Type: e.Type, SubscriptionID: e.SubscriptionID, CustomerID: e.CustomerID,
		OccurredAt: at.UTC(), Data: string(data), CreatedAt: now}
	order := ""
	if e.SubscriptionID != nil {
		order = "sub:" + strconv.FormatUint(uint64(*e.SubscriptionID), 10)
	}
	return tx.EnqueueEvent(&ev, targets, order)
}

// LoadSubscription reads a subscription's current state for an event, in
// the shape the portal API answers it (views.Subscription).
func LoadSubscription(tx *store.Tx, id uint) (*views.Subscription, error) {
	s, err := tx.SubscriptionForEvent(id)
	if err != nil {
		return nil, err
	}
	v := views.OfLoaded(s)
	return &v, nil
}

// Listening reports whether any enabled endpoint listens to one of the
// types (callers skip building an event's data when none does).
func Listening(tx *store.Tx, types ...string) (bool, error) {
	eps, err := endpoints(tx, 0)
	if err != nil {
		return false, err
	}
	for _, t := range types {
		if len(eps.targets(t, false)) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// EmitSubscription emits events of the given types about a subscription,
// its current state as data: one per type, or one per type for each of
// extras (fields added to the data, for example the change or a seat). The
// endpoints and the subscription are read once. The events are kept for the
// read API's feed also when no endpoint listens.
func EmitSubscription(tx *store.Tx, now time.Time, subID uint, at time.Time, types []string, extras ...map[string]any) error {
	eps, err := endpoints(tx, 0)
	if err != nil {
		return err
	}
	targets := map[string][]uint{}
	for _, t := range types {
		if ts := eps.targets(t, false); len(ts) > 0 {
			targets[t] = ts
		}
	}
	sd, err := LoadSubscription(tx, subID)
	if err != nil {
		return err
	}
	if len(extras) == 0 {
		extras = []map[string]any{nil}
	}
	var customerID *uint
	if sd.Customer != nil {
		customerID = &sd.Customer.ID
	}
	for _, extra := range extras {
		data := map[string]any{"subscription": sd}
		for k, v := range extra {
			data[k] = v
		}
		for _, t := range types {
			if err := emitTo(tx, now, Event{Type: t, SubscriptionID: &sd.ID, CustomerID: customerID, At: at, Data: data}, targets[t]); err != nil {
				return err
			}
		}
	}
	return nil
}
