package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The queries of server/awsmp: AWS offers, subscriptions found by their AWS
// identities, agreements and their terms, contract entitlements. Each
// "not found" that a flow treats as normal answers a zero value (or nil),
// not an error.

// AWSOffer is the AWS offer of a product code (a zero Offer when none is
// configured), with its plans when withPlans.
func (t *Tx) AWSOffer(productCode string, withPlans bool) (Offer, error) {
	var offer Offer
	q := t.db
	if withPlans {
		q = q.Preload("Plans")
	}
	err := q.Where("marketplace = 'aws' AND marketplace_id = ?", productCode).Limit(1).Find(&offer).Error
	return offer, err
}

// AWSSubscription reads a subscription by id, with its offer when
// withOffer; ErrNotFound when there is none.
func (t *Tx) AWSSubscription(id uint, withOffer bool) (*Subscription, error) {
	var sub Subscription
	q := t.db
	if withOffer {
		q = q.Preload("Offer")
	}
	if err := q.First(&sub, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// AWSKey is an AWS identity a subscription can be found by.
type AWSKey int

// The AWS identities of a subscription.
const (
	AWSByLicenseArn AWSKey = iota + 1
	AWSByCustomerIdentifier
	AWSByAccount
)

func (k AWSKey) column() (string, error) {
	switch k {
	case AWSByLicenseArn:
		return "aws_license_arn", nil
	case AWSByCustomerIdentifier:
		return "aws_customer_identifier", nil
	case AWSByAccount:
		return "aws_customer_account_id", nil
	}
	return "", fmt.Errorf("unknown AWS identity key %d", k)
}

// AWSSubscriptionStates lists (id and state only, oldest first, at most 50)
// the AWS subscriptions holding an identity, of one product when
// productCode is given.
func (t *Tx) AWSSubscriptionStates(key AWSKey, value, productCode string) ([]Subscription, error) {
	col, err := key.column()
	if err != nil {
		return nil, err
	}
	q := t.db.Model(&Subscription{}).Where("marketplace = 'aws'").Where(col+" = ?", value)
	if productCode != "" {
		q = q.Where("aws_product_code = ?", productCode)
	}
	var subs []Subscription
	err = q.Select("id", "state").Order("id").Limit(50).Find(&subs).Error
	return subs, err
}

// AWSSubscriptionByCustomerIdentifier finds a legacy buyer's subscription
// by product code and CustomerIdentifier (nil when none).
func (t *Tx) AWSSubscriptionByCustomerIdentifier(productCode, customerIdentifier string) (*Subscription, error) {
	return t.oneSubscription(t.db.Where("aws_product_code = ? AND aws_customer_identifier = ?", productCode, customerIdentifier))
}

// AWSSubscriptionByLicense finds a subscription by the buyer's account and
// license (nil when none).
func (t *Tx) AWSSubscriptionByLicense(accountID, licenseArn string) (*Subscription, error) {
	return t.oneSubscription(t.db.Where("aws_customer_account_id = ? AND aws_license_arn = ?", accountID, licenseArn))
}

func (t *Tx) oneSubscription(q *gorm.DB) (*Subscription, error) {
	var sub Subscription
	if err := q.Limit(1).Find(&sub).Error; err != nil || sub.ID == 0 {
		return nil, err
	}
	return &sub, nil
}

// TimelineNoteExists reports whether a subscription's timeline holds an
// entry of this kind, time and summary already.
func (t *Tx) TimelineNoteExists(subID uint, kind string, at time.Time, summary string) (bool, error) {
	var seen int64
	err := t.db.Model(&TimelineEvent{}).Where("subscription_id = ? AND kind = ? AND at = ? AND summary = ?", subID, kind, at.UTC(), summary).
		Count(&seen).Error
	return seen > 0, err
}

// AWSAgreement reads an agreement by AWS's id (a zero row when it is not
// stored yet).
func (t *Tx) AWSAgreement(agreementID string) (AWSAgreement, error) {
	var row AWSAgreement
	err := t.db.Where("agreement_id = ?", agreementID).Limit(1).Find(&row).Error
	return row, err
}

// SaveAWSAgreement stores an agreement row: a new one (ID 0) is created.
func (t *Tx) SaveAWSAgreement(row *AWSAgreement) error {
	if row.ID == 0 {
		return t.db.Create(row).Error
	}
	return t.db.Save(row).Error
}

// AWSAgreementLinks is the subscription an agreement is linked to (empty
// when it is not linked yet).
func (t *Tx) AWSAgreementLinks(agreementID string) ([]uint, error) {
	var ids []uint
	err := t.db.Model(&AWSAgreement{}).Where("agreement_id = ? AND subscription_id IS NOT NULL", agreementID).
		Pluck("subscription_id", &ids).Error
	return ids, err
}

// OtherRunningAWSAgreements lists the agreements besides one that are
// linked to a subscription and have not ended.
func (t *Tx) OtherRunningAWSAgreements(subID uint, agreementID string) ([]string, error) {
	var others []string
	err := t.db.Model(&AWSAgreement{}).Where("subscription_id = ? AND agreement_id <> ? AND ended_at IS NULL", subID, agreementID).
		Pluck("agreement_id", &others).Error
	return others, err
}

// AWSAgreementsDueForTerms lists (oldest first) the linked agreements whose
// terms were never read, or whose failed read is due again.
func (t *Tx) AWSAgreementsDueForTerms(now time.Time, limit int) ([]AWSAgreement, error) {
	var rows []AWSAgreement
	err := t.db.Where("subscription_id IS NOT NULL AND (terms_status = '' OR (terms_status = ? AND terms_next_at <= ?))", "error", now).
		Order("id").Limit(limit).Find(&rows).Error
	return rows, err
}

// SetAWSTermsUnavailable records that the partition has no Agreement
// Service to read an agreement's terms from.
func (t *Tx) SetAWSTermsUnavailable(id uint, now time.Time) error {
	return t.db.Model(&AWSAgreement{}).Where("id = ?", id).Updates(map[string]any{"terms_status": "unavailable",
		"terms_error": "", "terms_next_at": nil, "updated_at": now}).Error
}

// SetAWSTermsFailed records a failed read of an agreement's terms: retried
// at next, or never again when next is nil.
func (t *Tx) SetAWSTermsFailed(id uint, errText string, next *time.Time, now time.Time) error {
	return t.db.Model(&AWSAgreement{}).Where("id = ?", id).Updates(map[string]any{"terms_status": "error",
		"terms_error": errText, "terms_attempts": gorm.Expr("terms_attempts + 1"), "terms_next_at": next, "updated_at": now}).Error
}

// SetAWSTermsRead records an agreement's terms as read: its free trial's
// days (nil: no free trial) and end (nil: not known).
func (t *Tx) SetAWSTermsRead(id uint, freeTrialDays *int, freeTrialEndsAt *time.Time, now time.Time) error {
	return t.db.Model(&AWSAgreement{}).Where("id = ?", id).Updates(map[string]any{"terms_status": "read", "terms_error": "",
		"terms_next_at": nil, "terms_read_at": now, "free_trial_days": freeTrialDays, "free_trial_ends_at": freeTrialEndsAt,
		"updated_at": now}).Error
}

// AWSEntitlements lists a subscription's stored entitlements.
func (t *Tx) AWSEntitlements(subID uint) ([]Entitlement, error) {
	var ents []Entitlement
	err := t.db.Where("subscription_id = ?", subID).Find(&ents).Error
	return ents, err
}

// DeleteAWSEntitlements removes a subscription's stored entitlements
// (before a GetEntitlements answer replaces them).
func (t *Tx) DeleteAWSEntitlements(subID uint) error {
	return t.db.Where("subscription_id = ?", subID).Delete(&Entitlement{}).Error
}

// AddAWSEntitlement stores one entitlement.
func (t *Tx) AddAWSEntitlement(e *Entitlement) error { return t.db.Create(e).Error }

// CustomerIDByAWSAccount is the (oldest) customer of an AWS account, nil
// when the account has none.
func (t *Tx) CustomerIDByAWSAccount(accountID string) (*uint, error) {
	var c Customer
	if err := t.db.Where("aws_account_id = ?", accountID).Order("id").Limit(1).Find(&c).Error; err != nil || c.ID == 0 {
		return nil, err
	}
	return &c.ID, nil
}

// CreateAWSCustomer creates the customer of an AWS account and returns its id.
func (t *Tx) CreateAWSCustomer(accountID string, now time.Time) (uint, error) {
	c := Customer{AWSAccountID: accountID, CreatedAt: now, UpdatedAt: now}
	if err := t.db.Create(&c).Error; err != nil {
		return 0, err
	}
	return c.ID, nil
}
