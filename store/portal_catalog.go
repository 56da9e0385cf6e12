package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The queries behind the portal's offers, plans and customers pages. The
// writes run on the writer, each on its own; the reads that precede an
// edit run there too, so they see the latest committed change.

// conflictOnDuplicate wraps a unique-key violation in ErrConflict.
func conflictOnDuplicate(err error) error {
	if err != nil && errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// CreateOffer stores a new offer; ErrConflict when its marketplace id is
// taken on its marketplace.
func (s *Store) CreateOffer(ctx context.Context, o *Offer) error {
	return conflictOnDuplicate(s.Writes(ctx).db.Create(o).Error)
}

// OfferByID returns an offer, with its plans when withPlans.
func (s *Store) OfferByID(ctx context.Context, id uint, withPlans bool) (*Offer, error) {
	q := s.Writes(ctx).db
	if withPlans {
		q = q.Preload("Plans").Preload("Permissions", orderPermissions)
	}
	var o Offer
	if err := q.First(&o, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &o, nil
}

// UpdateOffer writes what may change of an offer: its name, identity
// model and contract flag.
func (s *Store) UpdateOffer(ctx context.Context, o *Offer, now time.Time) error {
	return s.Writes(ctx).db.Model(&Offer{}).Where("id = ?", o.ID).Updates(map[string]any{"name": o.Name,
		"identity_model": o.IdentityModel, "contract": o.Contract, "updated_at": now}).Error
}

// UpdateOfferBranding writes an offer's branding of its buyer pages.
func (s *Store) UpdateOfferBranding(ctx context.Context, id uint, b OfferBranding, now time.Time) error {
	return s.Writes(ctx).db.Model(&Offer{}).Where("id = ?", id).Updates(map[string]any{"brand_name": b.BrandName,
		"brand_logo": b.BrandLogo, "brand_accent": b.BrandAccent, "support_email": b.SupportEmail, "support_url": b.SupportURL,
		"getting_started": b.GettingStarted, "updated_at": now}).Error
}

// CreatePlan stores a new plan; ErrConflict when its offer already has a
// plan of its plan id.
func (s *Store) CreatePlan(ctx context.Context, p *Plan) error {
	return conflictOnDuplicate(s.Writes(ctx).db.Create(p).Error)
}

// PlanByID returns a plan.
func (s *Store) PlanByID(ctx context.Context, id uint) (*Plan, error) {
	var p Plan
	if err := s.Writes(ctx).db.First(&p, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

// SavePlan writes what a seller may change of a plan (everything but its
// offer and plan id) and marks it reviewed (needs_review false).
func (s *Store) SavePlan(ctx context.Context, p *Plan) error {
	return s.Writes(ctx).db.Model(&Plan{}).Where("id = ?", p.ID).Updates(map[string]any{"needs_review": false,
		"name": p.Name, "seat_based": p.SeatBased, "dimensions": p.Dimensions, "activation_policy": p.ActivationPolicy,
		"reject_plan_change": p.RejectPlanChange, "reject_quantity_change": p.RejectQuantityChange, "min_quantity": p.MinQuantity,
		"max_quantity": p.MaxQuantity, "allow_over_assignment": p.AllowOverAssignment, "auto_assign_seats": p.AutoAssignSeats,
		"over_quantity_policy": p.OverQuantityPolicy, "updated_at": p.UpdatedAt,
		"customer_plan_change": p.CustomerPlanChange, "customer_seat_change": p.CustomerSeatChange, "customer_unsubscribe": p.CustomerUnsubscribe}).Error
}

// CustomerByID returns a customer.
func (s *Store) CustomerByID(ctx context.Context, id uint) (*Customer, error) {
	var cu Customer
	if err := s.Writes(ctx).db.First(&cu, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &cu, nil
}

// CustomerCounts are a customer's figures on its page.
type CustomerCounts struct {
	Subscriptions       int64 // all of them, whatever their state
	ActiveSubscriptions int64 // active or unsubscribe_pending
	Admins              int64 // customer admins not deactivated
}

// CountCustomer counts a customer's subscriptions and admins.
func (s *Store) CountCustomer(ctx context.Context, id uint) (CustomerCounts, error) {
	var out CustomerCounts
	db := s.Reads(ctx).db
	for _, q := range []struct {
		n *int64
		q *gorm.DB
	}{
		{&out.Subscriptions, db.Model(&Subscription{}).Where("customer_id = ?", id)},
		{&out.ActiveSubscriptions, db.Model(&Subscription{}).Where("customer_id = ? AND state IN ?", id, liveStates)},
		{&out.Admins, db.Model(&User{}).Where("customer_id = ? AND role = ? AND NOT disabled", id, RoleCustomerAdmin)},
	} {
		if err := q.q.Count(q.n).Error; err != nil {
			return out, err
		}
	}
	return out, nil
}
