package store

import (
	"context"
	"gorm.io/gorm"
	"time"
)

// The queries of the sandbox's demo data (server/sandbox): the catalog and
// customers it seeds, and what it tells the simulated marketplaces the
// database holds.

// HasSetting reports whether a setting exists (in the transaction).
func (t *Tx) HasSetting(key string) (bool, error) {
	var n int64
	err := t.db.Model(&Setting{}).Where("key = ?", key).Count(&n).Error
	return n > 0, err
}

// CreateSetting inserts a setting (a key already set is a unique-key
// violation).
func (t *Tx) CreateSetting(key, value string, at time.Time) error {
	return t.db.Create(&Setting{Key: key, Value: value, UpdatedAt: at}).Error
}

// CreateOfferWithPlans inserts an offer and its Plans; their ids are set.
func (t *Tx) CreateOfferWithPlans(o *Offer) error {
	return t.db.Create(o).Error
}

// CreateCustomer inserts a customer; its id is set.
func (t *Tx) CreateCustomer(c *Customer) error {
	return t.db.Create(c).Error
}

// OffersWithPlans returns a marketplace's offers with their plans, by id.
func (s *Store) OffersWithPlans(ctx context.Context, marketplace string) ([]Offer, error) {
	var offers []Offer
	err := s.r.WithContext(ctx).Preload("Plans").Where("marketplace = ?", marketplace).Order("id").Find(&offers).Error
	return offers, err
}

// SubscriptionsInStates returns a marketplace's subscriptions in any of
// the states.
func (s *Store) SubscriptionsInStates(ctx context.Context, marketplace string, states []string) ([]Subscription, error) {
	var subs []Subscription
	err := s.r.WithContext(ctx).Where("marketplace = ? AND state IN ?", marketplace, states).Find(&subs).Error
	return subs, err
}

// IntegerEntitlements returns every integer grant (AWS contracts' units),
// by subscription then id.
func (s *Store) IntegerEntitlements(ctx context.Context) ([]Entitlement, error) {
	var held []Entitlement
	err := s.r.WithContext(ctx).Where("kind = 'integer'").Order("subscription_id, id").Find(&held).Error
	return held, err
}

// AWSSubscriptionsWithEntitlements returns the AWS subscriptions that hold
// grants.
func (s *Store) AWSSubscriptionsWithEntitlements(ctx context.Context) ([]Subscription, error) {
	var owners []Subscription
	err := s.r.WithContext(ctx).Where("marketplace = 'aws' AND id IN (SELECT subscription_id FROM entitlements)").Find(&owners).Error
	return owners, err
}

// AzureSubscriptionsWithDetails returns the Microsoft subscriptions that
// have a Microsoft id, with their offer, plan and customer.
// They are read a page at a time: a preload names its rows' parents in one
// IN list, and SQLite takes at most 32,766 variables in a statement (a
// sandbox of a million subscriptions did not start).
func (s *Store) AzureSubscriptionsWithDetails(ctx context.Context) ([]Subscription, error) {
	var subs, page []Subscription
	err := s.r.WithContext(ctx).Preload("Offer").Preload("Plan").Preload("Customer").
		Where("marketplace = 'azure' AND azure_subscription_id <> ''").
		FindInBatches(&page, 10000, func(*gorm.DB, int) error { subs = append(subs, page...); return nil }).Error
	return subs, err
}
