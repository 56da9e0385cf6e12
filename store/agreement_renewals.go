package store

import (
	"time"
)

// AgreementRenewal is what AWS said of an agreement's end and renewal: the
// latest Purchase Agreement Ending (days before the end), Renewal Upcoming,
// Renewal Terms Finalized, and who turned auto-renewal off. One row per
// agreement, written by the SQS processor (server/awsmp).
type AgreementRenewal struct {
	ID                uint `gorm:"primaryKey"`
	AgreementID       string
	SubscriptionID    *uint
	EndsAt            *time.Time
	DaysBeforeEnd     *int
	AutoRenew         string // "true", "false" or "" (not said)
	TurnedOffBy       string // "buyer", "seller" or "" (on, or not known)
	TurnedOffAt       *time.Time
	EndingAt          *time.Time // the latest Purchase Agreement Ending
	RenewalUpcomingAt *time.Time
	LockoutAt         *time.Time // renewalSummary.lockoutStartTime: the buyer's renewal decision deadline
	TermsFinalizedAt  *time.Time
	LastEventAt       *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AgreementRenewal) TableName() string { return "agreement_renewals" }

// AgreementRenewal reads an agreement's renewal row (a zero row when none).
func (t *Tx) AgreementRenewal(agreementID string) (AgreementRenewal, error) {
	var row AgreementRenewal
	err := t.db.Where("agreement_id = ?", agreementID).Limit(1).Find(&row).Error
	return row, err
}

// SaveAgreementRenewal stores a renewal row: a new one (ID 0) is created.
func (t *Tx) SaveAgreementRenewal(row *AgreementRenewal) error {
	if row.ID == 0 {
		return t.db.Create(row).Error
	}
	return t.db.Save(row).Error
}

// RenewalFilter selects renewals: those ending within [From, To) (nil: no
// bound), and only auto-renewal off when AutoRenewOff.
type RenewalFilter struct {
	AgreementID  string // "": every agreement
	From, To     *time.Time
	AutoRenewOff bool
	Limit        int
}

// RenewalRow is a renewal with its subscription's name, customer and offer.
type RenewalRow struct {
	AgreementRenewal
	SubscriptionName string
	CustomerID       *uint
	CustomerName     string
	OfferName        string
	State            string
}

// ListRenewals lists renewals soonest end first (unknown ends last).
func (t *Tx) ListRenewals(f RenewalFilter) ([]RenewalRow, error) {
	q := t.db.Table("agreement_renewals r").
		Select("r.*, s.name AS subscription_name, s.customer_id, s.state, c.name AS customer_name, o.name AS offer_name").
		Joins("LEFT JOIN subscriptions s ON s.id = r.subscription_id").
		Joins("LEFT JOIN customers c ON c.id = s.customer_id").
		Joins("LEFT JOIN offers o ON o.id = s.offer_id")
	if f.From != nil {
		q = q.Where("r.ends_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("r.ends_at < ?", f.To.UTC())
	}
	if f.AgreementID != "" {
		q = q.Where("r.agreement_id = ?", f.AgreementID)
	}
	if f.AutoRenewOff {
		q = q.Where("r.auto_renew = ?", "false")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	var rows []RenewalRow
	err := q.Order("CASE WHEN r.ends_at IS NULL THEN 1 ELSE 0 END, r.ends_at, r.id").Limit(f.Limit).Scan(&rows).Error
	return rows, err
}

// AWSAgreementView is the cached answer of AWS's Agreement Service about an
// agreement (DescribeAgreement, GetAgreementTerms, GetAgreementEntitlements,
// SearchAgreements for the related ones), as JSON, with when it was read
// and the last failure.
type AWSAgreementView struct {
	ID          uint `gorm:"primaryKey"`
	AgreementID string
	Body        string
	ReadAt      *time.Time
	Error       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AWSAgreementView) TableName() string { return "aws_agreement_views" }

// AgreementViewCache reads an agreement's cached view (a zero row when none).
func (t *Tx) AgreementViewCache(agreementID string) (AWSAgreementView, error) {
	var row AWSAgreementView
	err := t.db.Where("agreement_id = ?", agreementID).Limit(1).Find(&row).Error
	return row, err
}

// SaveAgreementViewCache stores an agreement's view, read at readAt (nil
// with a failure: the previous body and its time are kept).
func (t *Tx) SaveAgreementViewCache(agreementID, body string, readAt *time.Time, failure string, now time.Time) error {
	row, err := t.AgreementViewCache(agreementID)
	if err != nil {
		return err
	}
	if row.ID == 0 {
		row = AWSAgreementView{AgreementID: agreementID, CreatedAt: now}
	}
	if readAt != nil {
		row.Body, row.ReadAt = body, readAt
	}
	row.Error, row.UpdatedAt = failure, now
	if row.ID == 0 {
		return t.db.Create(&row).Error
	}
	return t.db.Save(&row).Error
}

// AgreementSubscriptions maps agreement ids to the subscriptions they are
// linked to (those not linked are left out).
func (t *Tx) AgreementSubscriptions(agreementIDs []string) (map[string]uint, error) {
	out := map[string]uint{}
	if len(agreementIDs) == 0 {
		return out, nil
	}
	var rows []AWSAgreement
	if err := t.db.Where("agreement_id IN ? AND subscription_id IS NOT NULL", agreementIDs).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.AgreementID] = *r.SubscriptionID
	}
	return out, nil
}

// SubscriptionAWSAgreements lists a subscription's AWS agreements, oldest first.
func (t *Tx) SubscriptionAWSAgreements(subID uint) ([]AWSAgreement, error) {
	var ags []AWSAgreement
	err := t.db.Where("subscription_id = ?", subID).Order("created_at, id").Find(&ags).Error
	return ags, err
}
