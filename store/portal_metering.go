package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The queries behind the portal's metering pages.

// RecordFilter selects hourly metering records.
type RecordFilter struct {
	CustomerID     uint // a customer admin's scope (0: every customer's)
	Marketplace    string
	SubscriptionID uint
	Dimension      string
	Statuses       []string
	// Expiring, when set, is the SQL condition (with its arguments) of the
	// records near their deadline, as the metering package defines it
	// (metering.ExpiringBy).
	Expiring     string
	ExpiringArgs []any
	From, To     time.Time // the record's hour, From inclusive, To exclusive (zero: open)
	Limit        int
	Offset       int
	NoTotal      bool // skip counting the whole selection (an export)
}

// recordTotal counts the records a filter selects. A filter of statuses
// and hours alone (the metering page as it opens, and each health card's
// list) is counted from metering_record_counts, a few rows an hour,
// rather than from every record kept; any other is counted from the
// records, q.
func (s *Store) recordTotal(ctx context.Context, f RecordFilter, q *gorm.DB, total *int64) error {
	if f.CustomerID != 0 || f.Marketplace != "" || f.SubscriptionID != 0 || f.Dimension != "" || f.Expiring != "" {
		return q.Count(total).Error
	}
	c := s.Reads(ctx).db.Table("metering_record_counts").Select("CAST(COALESCE(SUM(n), 0) AS bigint)")
	if len(f.Statuses) > 0 {
		c = c.Where("status IN ?", f.Statuses)
	}
	if !f.From.IsZero() {
		c = c.Where("hour >= ?", f.From)
	}
	if !f.To.IsZero() {
		c = c.Where("hour < ?", f.To)
	}
	return c.Scan(total).Error
}

// ListRecords lists metering records, newest hour first, and counts the
// whole selection (unless NoTotal).
func (s *Store) ListRecords(ctx context.Context, f RecordFilter) ([]MeteringRecord, int64, error) {
	db := s.Reads(ctx).db
	q := db.Model(&MeteringRecord{})
	if f.CustomerID != 0 {
		q = q.Where("subscription_id IN (?)", db.Model(&Subscription{}).Select("id").Where("customer_id = ?", f.CustomerID))
	}
	if f.Marketplace != "" {
		q = q.Where("marketplace = ?", f.Marketplace)
	}
	if f.SubscriptionID != 0 {
		q = q.Where("subscription_id = ?", f.SubscriptionID)
	}
	if f.Dimension != "" {
		q = q.Where("dimension = ?", f.Dimension)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.Expiring != "" {
		q = q.Where(f.Expiring, f.ExpiringArgs...)
	}
	if !f.From.IsZero() {
		q = q.Where("hour >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("hour < ?", f.To)
	}
	q = q.Session(&gorm.Session{})
	var total int64
	if !f.NoTotal {
		if err := s.recordTotal(ctx, f, q, &total); err != nil {
			return nil, 0, err
		}
	}
	var recs []MeteringRecord
	err := q.Order("hour DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&recs).Error
	return recs, total, err
}
