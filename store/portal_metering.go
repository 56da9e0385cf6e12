package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
// list) is counted exactly from metering_record_counts, a few rows an
// hour, rather than from every record kept; any other is counted from the
// records, q, up to ListCountCap (countUpTo).
func (s *Store) recordTotal(ctx context.Context, f RecordFilter, q *gorm.DB, total *int64) (capped bool, err error) {
	if f.CustomerID != 0 || f.Marketplace != "" || f.SubscriptionID != 0 || f.Dimension != "" || f.Expiring != "" {
		return countUpTo(s.Reads(ctx).db, q, countLimit(f.Offset, f.Limit), total)
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
	return false, c.Scan(total).Error
}

// ListRecords lists metering records, newest hour first, and counts the
// selection (unless NoTotal; see recordTotal).
func (s *Store) ListRecords(ctx context.Context, f RecordFilter) (Page[MeteringRecord], error) {
	db := s.Reads(ctx).db
	statuses := slices.Compact(slices.Sorted(slices.Values(f.Statuses)))
	where := func(statuses []string) *gorm.DB {
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
		if len(statuses) > 0 {
			q = q.Where("status IN ?", statuses)
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
		return q.Session(&gorm.Session{})
	}
	q := where(statuses)
	var page Page[MeteringRecord]
	if !f.NoTotal {
		capped, err := s.recordTotal(ctx, f, q, &page.Total)
		if err != nil {
			return page, err
		}
		page.TotalCapped = capped
	}
	if len(statuses) < 2 || f.SubscriptionID != 0 {
		err := q.Order("hour DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&page.Items).Error
		return page, err
	}
	// Several statuses (the failed ones): each status's records newest
	// first by the status index, up to the page's end, merged. One IN over
	// the index had the database sort every record of those statuses, or
	// walk the hour index past every other record until a page was found.
	// (One subscription's records are few: read by its own index.)
	parts, args := make([]string, len(statuses)), make([]any, len(statuses))
	for i, st := range statuses {
		parts[i] = fmt.Sprintf("SELECT * FROM (?) AS s%d", i)
		args[i] = where([]string{st}).Order("hour DESC, id DESC").Limit(f.Offset + f.Limit)
	}
	union := db.Raw(strings.Join(parts, " UNION ALL "), args...)
	err := db.Table("(?) AS r", union).Order("hour DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&page.Items).Error
	return page, err
}
