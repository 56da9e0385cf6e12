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
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

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
	Test                           = "webhook.test"
)

// EventType is one event type and what it means, as the portal shows it.
type EventType struct {
	Type        string `json:"type"`
	Description string `json:"description"`
}

// Types lists the event types an endpoint may choose, with what they mean.
var Types = []EventType{
	{SubscriptionCreated, "a subscription was recorded for the first time (registration, landing page, notification or webhook)"},
	{SubscriptionActivated, "a subscription became active: the customer may use the product"},
	{SubscriptionPlanChanged, "the plan changed"},
	{SubscriptionQuantityChanged, "the quantity (seats) changed"},
	{SubscriptionSuspended, "Microsoft suspended the subscription (for example an unpaid bill); data is kept"},
	{SubscriptionReinstated, "a suspended subscription is active again"},
	{SubscriptionUnsubscribePending, "an AWS customer cancelled; access continues until the subscription ends"},
	{SubscriptionEnded, "the subscription ended: remove access"},
	{SubscriptionFailed, "the marketplace failed the subscription (for example the payment)"},
	{EntitlementChanged, "an AWS contract's entitlements changed (upgrade, renewal, expiry)"},
	{SeatAssigned, "a customer admin (or the seat check) gave a user a seat"},
	{SeatReleased, "a user's seat was released"},
	{MeteringRecordRejected, "the marketplace refused an hourly metering record, or holds another quantity for its hour"},
	{MeteringRecordExpiring, "an hourly metering record is close to the end of the marketplace's 24-hour window"},
	{MeteringRecordExpired, "an hourly metering record can no longer be sent; settle it another way"},
	{AgreementEnding, "AWS: an agreement ends in 180, 120, 90, 60 or 30 days (days_before_end; auto_renewal says whether it renews)"},
	{AgreementRenewalUpcoming, "AWS: an agreement is about to renew; the buyer can still change auto-renewal until the decision deadline"},
	{AgreementAdvisoryIssued, "AWS issued an advisory on an agreement: check it in AWS Marketplace"},
	{AgreementDisbursementPaused, "AWS paused disbursements (payments to you) for an agreement until the cause is resolved"},
	{Test, "sent by the portal's “Send test event” button"},
}

// KnownType reports whether t is an event type.
func KnownType(t string) bool {
	return slices.ContainsFunc(Types, func(x EventType) bool { return x.Type == t })
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
func Emit(tx *gorm.DB, now time.Time, e Event) error {
	eps, err := endpoints(tx, e.Only)
	if err != nil {
		return err
	}
	return emitTo(tx, now, e, eps.targets(e.Type, e.Only != 0))
}

// listeners is the enabled endpoints and the event types each listens to.
type listeners []store.WebhookEndpoint

func endpoints(tx *gorm.DB, only uint) (listeners, error) {
	var eps []store.WebhookEndpoint
	q := tx.Select("id", "event_types").Where("enabled")
	if only != 0 {
		q = q.Where("id = ?", only)
	}
	return eps, q.Find(&eps).Error
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
func emitTo(tx *gorm.DB, now time.Time, e Event, targets []uint) error {
	if len(targets) == 0 {
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
	if err := tx.Create(&ev).Error; err != nil {
		return err
	}
	order := ""
	if e.SubscriptionID != nil {
		order = "sub:" + strconv.FormatUint(uint64(*e.SubscriptionID), 10)
	}
	ds := make([]store.WebhookDelivery, len(targets))
	for i, id := range targets {
		ds[i] = store.WebhookDelivery{EndpointID: id, EventID: ev.ID, OrderKey: order, Status: store.DeliveryPending,
			NextAttemptAt: now, CreatedAt: now}
	}
	return tx.Create(&ds).Error
}

// SubscriptionData is a subscription as events carry it: its current state.
type SubscriptionData struct {
	ID                    uint       `json:"id"`
	Marketplace           string     `json:"marketplace"`
	State                 string     `json:"state"`
	Name                  string     `json:"name"`
	Offer                 string     `json:"offer"` // the marketplace's offer id or AWS product code
	Plan                  string     `json:"plan"`  // the marketplace's plan id
	Quantity              int        `json:"quantity"`
	CustomerID            *uint      `json:"customer_id"`
	CustomerName          string     `json:"customer_name,omitempty"`
	AWSCustomerAccountID  string     `json:"aws_customer_account_id,omitempty"`
	AWSLicenseArn         string     `json:"aws_license_arn,omitempty"`
	AWSCustomerIdentifier string     `json:"aws_customer_identifier,omitempty"`
	AWSProductCode        string     `json:"aws_product_code,omitempty"`
	AzureSubscriptionID   string     `json:"azure_subscription_id,omitempty"`
	AzureTenantID         string     `json:"azure_tenant_id,omitempty"`
	TermStart             *time.Time `json:"term_start"`
	TermEnd               *time.Time `json:"term_end"`
	FreeTrial             bool       `json:"free_trial"`
	IsTest                bool       `json:"is_test"`
	Version               int        `json:"version"`
}

// LoadSubscription reads a subscription's current state for an event.
func LoadSubscription(tx *gorm.DB, id uint) (*SubscriptionData, error) {
	var s store.Subscription
	if err := tx.Preload("Plan").Preload("Offer").Preload("Customer").First(&s, id).Error; err != nil {
		return nil, err
	}
	d := &SubscriptionData{ID: s.ID, Marketplace: s.Marketplace, State: s.State, Name: s.Name, Quantity: s.Quantity, CustomerID: s.CustomerID,
		AWSCustomerAccountID: s.AWSCustomerAccountID, AWSLicenseArn: s.AWSLicenseArn, AWSCustomerIdentifier: s.AWSCustomerIdentifier,
		AWSProductCode: s.AWSProductCode, AzureSubscriptionID: s.AzureSubscriptionID, AzureTenantID: s.AzureTenantID,
		TermStart: s.TermStart, TermEnd: s.TermEnd, FreeTrial: s.FreeTrial, IsTest: s.IsTest, Version: s.Version}
	if s.Offer != nil {
		d.Offer = s.Offer.MarketplaceID
	}
	if s.Plan != nil {
		d.Plan = s.Plan.PlanID
	}
	if s.Customer != nil {
		d.CustomerName = s.Customer.Name
	}
	return d, nil
}

// Listening reports whether any enabled endpoint listens to one of the
// types (callers skip building an event's data when none does).
func Listening(tx *gorm.DB, types ...string) (bool, error) {
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
// endpoints and the subscription are read once; nothing is read further
// when no endpoint listens.
func EmitSubscription(tx *gorm.DB, now time.Time, subID uint, at time.Time, types []string, extras ...map[string]any) error {
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
	if len(targets) == 0 {
		return nil
	}
	sd, err := LoadSubscription(tx, subID)
	if err != nil {
		return err
	}
	if len(extras) == 0 {
		extras = []map[string]any{nil}
	}
	for _, extra := range extras {
		data := map[string]any{"subscription": sd}
		for k, v := range extra {
			data[k] = v
		}
		for _, t := range types {
			if err := emitTo(tx, now, Event{Type: t, SubscriptionID: &sd.ID, CustomerID: sd.CustomerID, At: at, Data: data}, targets[t]); err != nil {
				return err
			}
		}
	}
	return nil
}
