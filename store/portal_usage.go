package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The queries behind a subscription's usage report (the seller's
// subscription page and the customer portal).

// HourlyUsage is one hour of a subscription's usage of one dimension, as
// the seller's app reported it (usage_hours).
type HourlyUsage struct {
	Dimension string
	Hour      time.Time
	Quantity  float64
}

// RecordHour is what the metering records of one hour and dimension hold
// in one status: how many records and their quantity.
type RecordHour struct {
	Dimension string
	Hour      time.Time
	Status    string
	Records   int64
	Quantity  float64
}

// UsageReport is a subscription's usage and metering records over a period.
type UsageReport struct {
	Subscription *Subscription // with its Offer and Plan
	Usage        []HourlyUsage // oldest first
	Records      []RecordHour  // oldest first
}

// SubscriptionUsage reads subscription subID's usage and metering records
// with an hour in [from, to). customerID is a customer admin's scope (0:
// any customer): every query of the report is confined to it, and a
// subscription of another customer is ErrNotFound.
func (s *Store) SubscriptionUsage(ctx context.Context, subID, customerID uint, from, to time.Time) (*UsageReport, error) {
	db := s.Reads(ctx).db
	scoped := func(q *gorm.DB) *gorm.DB {
		q = q.Where("subscription_id = ? AND hour >= ? AND hour < ?", subID, from, to)
		if customerID != 0 {
			q = q.Where("subscription_id IN (?)", db.Model(&Subscription{}).Select("id").Where("customer_id = ?", customerID))
		}
		return q
	}
	sub := Subscription{}
	q := db.Preload("Offer").Preload("Plan")
	if customerID != 0 {
		q = q.Where("customer_id = ?", customerID)
	}
	if err := q.First(&sub, subID).Error; err != nil {
		return nil, notFound(err)
	}
	rep := &UsageReport{Subscription: &sub}
	if err := scoped(db.Table("usage_hours")).Select("dimension, hour, quantity").Order("hour, dimension").Scan(&rep.Usage).Error; err != nil {
		return nil, err
	}
	err := scoped(db.Model(&MeteringRecord{})).Select("dimension, hour, status, COUNT(*) AS records, SUM(quantity) AS quantity").
		Group("dimension, hour, status").Order("hour, dimension, status").Scan(&rep.Records).Error
	if err != nil {
		return nil, err
	}
	return rep, nil
}
