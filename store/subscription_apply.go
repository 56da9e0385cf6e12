package store

import (
	"errors"
	"strings"

	"gorm.io/gorm/clause"
)

// The queries of applying a lifecycle event to a subscription
// (server/subscriptions): find the record by the identities the event
// carries, resolve plans, create it or change it (UpdateSubscription),
// and write the timeline.

// SubscriptionKeys identify a subscription: by id, or by the marketplace
// identities an event carries (any of them finds it).
type SubscriptionKeys struct {
	ID uint

	AWSCustomerAccountID  string // with AWSLicenseArn (concurrent agreements)
	AWSLicenseArn         string
	AWSCustomerIdentifier string // with AWSProductCode (legacy)
	AWSProductCode        string

	AzureSubscriptionID string
}

// ErrNoKey: the keys name no subscription.
var ErrNoKey = errors.New("subscription reference has no key")

// SubscriptionsByKeys returns up to limit subscriptions (with their plan),
// oldest first, that hold any of the keys' identities. On Postgres it locks
// them, so that writers of one subscription queue on its row instead of
// racing (SQLite's single writer connection already serialises them).
func (t *Tx) SubscriptionsByKeys(k SubscriptionKeys, limit int) ([]Subscription, error) {
	q := t.db.Model(&Subscription{})
	switch {
	case k.ID != 0:
		q = q.Where("id = ?", k.ID)
	default:
		var conds []string
		var args []any
		switch {
		case k.AWSLicenseArn != "" && k.AWSCustomerAccountID == "":
			// Some events carry the license alone; a license belongs to one account.
			conds, args = append(conds, "aws_license_arn = ?"), append(args, k.AWSLicenseArn)
		case k.AWSLicenseArn != "":
			conds, args = append(conds, "(aws_customer_account_id = ? AND aws_license_arn = ?)"), append(args, k.AWSCustomerAccountID, k.AWSLicenseArn)
		}
		if k.AWSCustomerIdentifier != "" {
			conds, args = append(conds, "(aws_product_code = ? AND aws_customer_identifier = ?)"), append(args, k.AWSProductCode, k.AWSCustomerIdentifier)
		}
		switch {
		case len(conds) > 0:
			q = q.Where("marketplace = 'aws' AND ("+strings.Join(conds, " OR ")+")", args...)
		case k.AzureSubscriptionID != "":
			q = q.Where("azure_subscription_id = ?", k.AzureSubscriptionID)
		default:
			return nil, ErrNoKey
		}
	}
	if t.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []Subscription
	return rows, q.Preload("Plan").Order("id").Limit(limit).Find(&rows).Error
}

// CreateSubscription inserts a new subscription (not its customer, offer
// or plan rows). Run it in a Savepoint: a taken identity is a unique-key
// violation that would abort a Postgres transaction otherwise.
func (t *Tx) CreateSubscription(s *Subscription) error {
	if err := t.db.Omit("Customer", "Offer", "Plan").Create(s).Error; err != nil {
		return err
	}
	_, err := t.indexSearch(0, s.ID) // the text index follows in the same transaction
	return err
}

// SubscriptionCustomer reads a subscription's customer; nil when the row
// is missing.
func (t *Tx) SubscriptionCustomer(id uint) (*Customer, error) {
	var c Customer
	if err := t.db.Where("id = ?", id).Limit(1).Find(&c).Error; err != nil || c.ID == 0 {
		return nil, err
	}
	return &c, nil
}

// OfferPlan reads the plan of an offer by the marketplace's plan id
// (ErrNotFound when the offer has no such plan).
func (t *Tx) OfferPlan(offerID uint, planID string) (*Plan, error) {
	var p Plan
	if err := t.db.Where("offer_id = ? AND plan_id = ?", offerID, planID).First(&p).Error; err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// AWSOfferFor reads the offer of an AWS subscription: the one it is linked
// to, else the AWS offer of its product code. Nil when there is none.
func (t *Tx) AWSOfferFor(offerID *uint, productCode string) (*Offer, error) {
	var o Offer
	q := t.db.Where("marketplace = 'aws' AND marketplace_id = ?", productCode)
	if offerID != nil {
		q = t.db.Where("id = ?", *offerID)
	}
	if err := q.Limit(1).Find(&o).Error; err != nil || o.ID == 0 {
		return nil, err
	}
	return &o, nil
}

// FirstPlanOf reads an offer's first plan (its default); nil when it has
// none.
func (t *Tx) FirstPlanOf(offerID uint) (*Plan, error) {
	var plans []Plan
	if err := t.db.Where("offer_id = ?", offerID).Order("id").Limit(1).Find(&plans).Error; err != nil || len(plans) == 0 {
		return nil, err
	}
	return &plans[0], nil
}

// AddTimelineEvent writes an entry on a subscription's timeline.
func (t *Tx) AddTimelineEvent(e *TimelineEvent) error {
	return t.db.Create(e).Error
}

// SubscriptionState reads a subscription's state (ErrNotFound when it
// does not exist).
func (t *Tx) SubscriptionState(id uint) (string, error) {
	var states []string
	if err := t.db.Model(&Subscription{}).Where("id = ?", id).Pluck("state", &states).Error; err != nil {
		return "", err
	}
	if len(states) == 0 {
		return "", ErrNotFound
	}
	return states[0], nil
}
