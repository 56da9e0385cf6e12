package store

import (
	"context"
	"time"
)

// The queries behind the customer portal (/api/my/...): a customer admin's
// own subscriptions and their organisation's registration information.
// Every query takes the customer id; nothing here reads another customer.

// CustomerSubscriptions lists a customer's subscriptions on both
// marketplaces, with their offer and plan, oldest first.
func (s *Store) CustomerSubscriptions(ctx context.Context, customerID uint) ([]Subscription, error) {
	subs := []Subscription{}
	err := s.Reads(ctx).db.Preload("Offer").Preload("Plan").
		Where("customer_id = ?", customerID).Order("id").Find(&subs).Error
	return subs, err
}

// CustomerSubscription is one subscription of a customer (with its offer,
// plan and customer); ErrNotFound when it is another customer's.
func (s *Store) CustomerSubscription(ctx context.Context, customerID, id uint) (*Subscription, error) {
	var sub Subscription
	err := s.Reads(ctx).db.Preload("Customer").Preload("Offer").Preload("Plan").
		Where("customer_id = ?", customerID).First(&sub, id).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// OpenOnboarding tells whether the buyer still has an AWS registration to
// finish for the subscription (an unused, unexpired onboarding ticket).
func (s *Store) OpenOnboarding(ctx context.Context, subID uint, now time.Time) (bool, error) {
	var n int64
	err := s.Reads(ctx).db.Model(&OnboardingTicket{}).
		Where("subscription_id = ? AND used_at IS NULL AND expires_at > ?", subID, now).Count(&n).Error
	return n > 0, err
}

// PartyPayloads are the payloads of a subscription's latest timeline
// events that name Microsoft's purchaser (the resolve and Get Subscription
// answers), newest first.
func (s *Store) PartyPayloads(ctx context.Context, subID uint, limit int) ([]string, error) {
	out := []string{}
	err := s.Reads(ctx).db.Model(&TimelineEvent{}).
		Where("subscription_id = ? AND payload LIKE ?", subID, "%purchaser%").
		Order("id DESC").Limit(limit).Pluck("payload", &out).Error
	return out, err
}

// OrganisationChanges are the registration fields a customer admin may
// correct.
type OrganisationChanges struct {
	Name                                                               string
	BillingContactName, BillingContactEmail, BillingContactPhone       string
	TechnicalContactName, TechnicalContactEmail, TechnicalContactPhone string
}

// UpdateOrganisation writes a customer's registration information and
// returns the customer as it was before and as it is now.
func (s *Store) UpdateOrganisation(ctx context.Context, customerID uint, ch OrganisationChanges) (before, after *Customer, err error) {
	err = s.InTx(ctx, func(tx *Tx) error {
		var cu Customer
		if err := tx.db.First(&cu, customerID).Error; err != nil {
			return notFound(err)
		}
		b := cu
		before = &b
		cu.Name = ch.Name
		cu.BillingContactName, cu.BillingContactEmail, cu.BillingContactPhone = ch.BillingContactName, ch.BillingContactEmail, ch.BillingContactPhone
		cu.TechnicalContactName, cu.TechnicalContactEmail, cu.TechnicalContactPhone = ch.TechnicalContactName, ch.TechnicalContactEmail, ch.TechnicalContactPhone
		cu.UpdatedAt = tx.Now()
		if err := tx.db.Model(&Customer{}).Where("id = ?", customerID).Updates(map[string]any{
			"name":                    cu.Name,
			"billing_contact_name":    cu.BillingContactName,
			"billing_contact_email":   cu.BillingContactEmail,
			"billing_contact_phone":   cu.BillingContactPhone,
			"technical_contact_name":  cu.TechnicalContactName,
			"technical_contact_email": cu.TechnicalContactEmail,
			"technical_contact_phone": cu.TechnicalContactPhone,
			"updated_at":              cu.UpdatedAt,
		}).Error; err != nil {
			return err
		}
		after = &cu
		if cu.Name == before.Name {
			return nil
		}
		// The subscriptions' search text carries the customer's name.
		var ids []uint
		if err := tx.db.Model(&Subscription{}).Where("customer_id = ?", customerID).Pluck("id", &ids).Error; err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.RefreshSearchText(id); err != nil {
				return err
			}
		}
		return nil
	})
	return before, after, err
}
