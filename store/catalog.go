package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ListOffers returns every offer with its plans.
func (s *Store) ListOffers(ctx context.Context) ([]Offer, error) {
	var offers []Offer
	err := s.r.WithContext(ctx).Preload("Plans", func(db *gorm.DB) *gorm.DB {
		return db.Order("id")
	}).Preload("Permissions", orderPermissions).Order("marketplace, name").Find(&offers).Error
	return offers, err
}

// CustomerRow is a customer with its subscription count.
type CustomerRow struct {
	Customer
	Subscriptions int64
}

// ListCustomers lists customers by name, with a text filter.
func (s *Store) ListCustomers(ctx context.Context, q string, limit, offset int) ([]CustomerRow, int64, error) {
	db := s.r.WithContext(ctx)
	base := db.Table("customers AS c")
	if t := NormalizeSearch(q); t != "" {
		like := "%" + escapeLike(t) + "%"
		base = base.Where(`LOWER(c.name) LIKE ? ESCAPE '\' OR LOWER(c.email) LIKE ? ESCAPE '\' OR c.aws_account_id LIKE ? ESCAPE '\' OR LOWER(c.azure_tenant_id) LIKE ? ESCAPE '\'`,
			like, like, like, like)
	}
	base = base.Session(&gorm.Session{})
	var total int64
	if err := base.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []CustomerRow
	err := base.Select("c.*, (SELECT COUNT(*) FROM subscriptions s WHERE s.customer_id = c.id) AS subscriptions").
		Order("c.name, c.id").Limit(limit).Offset(offset).Scan(&rows).Error
	return rows, total, err
}

// CountCustomers counts customers.
func (s *Store) CountCustomers(ctx context.Context) (int64, error) {
	var n int64
	return n, s.r.WithContext(ctx).Model(&Customer{}).Count(&n).Error
}

// InboxFilter selects inbox messages.
type InboxFilter struct {
	Marketplace string
	Status      string
	Source      string
	Action      string
	Q           string
	// SubscriptionID limits to one subscription's messages; From/To to a
	// receipt time range (zero: open).
	SubscriptionID uint
	From, To       time.Time
	Limit          int
	Offset         int
}

// ListInbox lists inbound messages, newest first, without their bodies,
// and counts the selection up to ListCountCap.
func (s *Store) ListInbox(ctx context.Context, f InboxFilter) (Page[InboxMessage], error) {
	q := s.r.WithContext(ctx).Model(&InboxMessage{})
	if f.Marketplace != "" {
		q = q.Where("marketplace = ?", f.Marketplace)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	broad := false
	if t := strings.TrimSpace(f.Q); t != "" {
		cond, args, b := s.inboxKeyCondition(ctx, t)
		q, broad = q.Where(cond, args...), b
	}
	if f.SubscriptionID != 0 {
		q = q.Where("subscription_id = ?", f.SubscriptionID)
	}
	if !f.From.IsZero() {
		q = q.Where("received_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("received_at < ?", f.To)
	}
	q = q.Session(&gorm.Session{})
	var page Page[InboxMessage]
	upTo := countLimit(f.Offset, f.Limit)
	if broad {
		upTo = searchCountLimit(f.Offset, f.Limit) // (as a broad subscription search's)
	}
	capped, err := countUpTo(s.r.WithContext(ctx), q, upTo, &page.Total)
	if err != nil {
		return page, err
	}
	page.TotalCapped = capped
	err = q.Omit("body", "headers").Order("received_at DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&page.Items).Error
	return page, err
}

// GetInbox returns one inbound message with its body.
func (s *Store) GetInbox(ctx context.Context, id uint) (*InboxMessage, error) {
	var m InboxMessage
	if err := s.r.WithContext(ctx).First(&m, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &m, nil
}
