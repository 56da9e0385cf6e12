package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Invitation kinds: to join the seller's staff with a role, or to become a
// customer admin of one organisation.
const (
	InviteStaff         = "staff"
	InviteCustomerAdmin = "customer_admin"
)

// Invitation is a link that creates one account, once, for 7 days: a
// seller staff member (Role one of the seller roles, no CustomerID) or a
// customer admin (Role customer_admin, CustomerID their organisation).
// Only the token's hash is kept. Both kinds live in one table,
// invitations (migration 202612030021_invitations).
type Invitation struct {
	ID         uint `gorm:"primaryKey"`
	Kind       string
	CustomerID *uint
	Email      string
	Name       string
	Role       string
	TokenHash  string
	CreatedBy  string
	ExpiresAt  time.Time
	UsedAt     *time.Time
	UsedBy     *uint
	RevokedAt  *time.Time
	CreatedAt  time.Time
	// Language the invitation was written in ("en", "ja"; "" before issue 17).
	Language string
}

// Pending says whether the link still works at now.
func (inv *Invitation) Pending(now time.Time) bool {
	return inv.UsedAt == nil && inv.RevokedAt == nil && inv.ExpiresAt.After(now)
}

// InvitationFilter selects invitations: of one kind, and (customer-admin
// invitations) of one organisation when CustomerID is set.
type InvitationFilter struct {
	Kind       string
	CustomerID uint // 0: any organisation
}

func (f InvitationFilter) apply(q *gorm.DB) *gorm.DB {
	q = q.Where("kind = ?", f.Kind)
	if f.CustomerID != 0 {
		q = q.Where("customer_id = ?", f.CustomerID)
	}
	return q
}

// CreateInvitation stores a new invitation. With supersede, the pending
// invitations of the same kind and address are revoked in the same
// transaction (the newest link wins).
func (s *Store) CreateInvitation(ctx context.Context, inv *Invitation, supersede bool) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if supersede {
			if err := tx.Model(&Invitation{}).Where("kind = ? AND email = ? AND used_at IS NULL AND revoked_at IS NULL", inv.Kind, inv.Email).
				Update("revoked_at", inv.CreatedAt).Error; err != nil {
				return err
			}
		}
		return tx.Create(inv).Error
	})
}

// ListInvitations lists invitations, newest first, at most limit.
func (s *Store) ListInvitations(ctx context.Context, f InvitationFilter, limit int) ([]Invitation, error) {
	invs := []Invitation{}
	err := f.apply(s.r.WithContext(ctx)).Order("created_at DESC, id DESC").Limit(limit).Find(&invs).Error
	return invs, err
}

// PendingInvitationEmails lists the addresses of invitations that still
// work at now, oldest first, at most limit.
func (s *Store) PendingInvitationEmails(ctx context.Context, f InvitationFilter, now time.Time, limit int) ([]string, error) {
	emails := []string{}
	err := f.apply(s.r.WithContext(ctx).Model(&Invitation{})).Where("used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).
		Order("id").Limit(limit).Pluck("email", &emails).Error
	return emails, err
}

// InvitationByID reads one invitation within the filter; ErrNotFound when
// there is none (or it is of another kind or organisation).
func (s *Store) InvitationByID(ctx context.Context, f InvitationFilter, id uint) (*Invitation, error) {
	var inv Invitation
	if err := f.apply(s.w.WithContext(ctx)).Where("id = ?", id).Take(&inv).Error; err != nil {
		return nil, notFound(err)
	}
	return &inv, nil
}

// InvitationByTokenHash reads the invitation of a link, whatever its
// state; ErrNotFound when there is none.
func (s *Store) InvitationByTokenHash(ctx context.Context, hash string) (*Invitation, error) {
	var inv Invitation
	if err := s.w.WithContext(ctx).Where("token_hash = ?", hash).Take(&inv).Error; err != nil {
		return nil, notFound(err)
	}
	return &inv, nil
}

// RevokeInvitation makes an unused link stop working from at; false when
// it was used or revoked meanwhile.
func (s *Store) RevokeInvitation(ctx context.Context, id uint, at time.Time) (bool, error) {
	r := s.w.WithContext(ctx).Model(&Invitation{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", id).Update("revoked_at", at)
	return r.RowsAffected == 1, r.Error
}

// AcceptInvitation marks an invitation used and creates its user in one
// transaction, so a link works exactly once: ErrTicketUsed when it was
// used, revoked or expired meanwhile, ErrConflict when the e-mail has an
// account.
func (s *Store) AcceptInvitation(ctx context.Context, id uint, u *User, now time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&Invitation{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", id, now).Update("used_at", now)
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return ErrTicketUsed
		}
		var taken int64
		if err := tx.Model(&User{}).Where("email = ?", u.Email).Count(&taken).Error; err != nil {
			return err
		}
		if taken > 0 {
			return ErrConflict
		}
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return tx.Model(&Invitation{}).Where("id = ?", id).Update("used_by", u.ID).Error
	})
}
