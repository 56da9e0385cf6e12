package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ErrTicketUsed and ErrTicketExpired say why a ticket no longer works.
var (
	ErrTicketUsed    = errors.New("ticket already used")
	ErrTicketExpired = errors.New("ticket expired")
)

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// CreateTicket stores a ticket for a subscription; token is the secret the
// buyer's browser carries.
func (s *Store) CreateTicket(ctx context.Context, token string, subscriptionID uint, ttl time.Duration) error {
	now := s.Now()
	return s.w.WithContext(ctx).Create(&OnboardingTicket{TokenHash: hashToken(token), SubscriptionID: subscriptionID,
		ExpiresAt: now.Add(ttl), CreatedAt: now}).Error
}

// Ticket returns a usable ticket, or ErrNotFound / ErrTicketUsed / ErrTicketExpired.
func (s *Store) Ticket(ctx context.Context, token string) (*OnboardingTicket, error) {
	var t OnboardingTicket
	if err := s.w.WithContext(ctx).Where("token_hash = ?", hashToken(token)).First(&t).Error; err != nil {
		return nil, notFound(err)
	}
	switch {
	case t.UsedAt != nil:
		return &t, ErrTicketUsed
	case !s.Now().Before(t.ExpiresAt):
		return &t, ErrTicketExpired
	}
	return &t, nil
}

// UseTicket marks a ticket used inside tx; ErrTicketUsed when another
// request used it first.
func UseTicket(tx *gorm.DB, id uint, now time.Time) error {
	r := tx.Model(&OnboardingTicket{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", now)
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected != 1 {
		return ErrTicketUsed
	}
	return nil
}
