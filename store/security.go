package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// RecoveryCode is one single-use two-factor recovery code (hashed).
type RecoveryCode struct {
	ID        uint `gorm:"primaryKey"`
	UserID    uint
	CodeHash  string
	UsedAt    *time.Time
	CreatedAt time.Time
}

// EmailVerification holds what waits for an e-mail address to be
// confirmed: the link's token (hashed), what it is for and its data.
type EmailVerification struct {
	ID        uint `gorm:"primaryKey"`
	TokenHash string
	Purpose   string
	Email     string
	TicketID  *uint
	Data      string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// HashToken is the SHA-256 (hex) under which a random token is stored.
func HashToken(t string) string { return hashToken(t) }

// SetPendingTOTP stores a TOTP secret being set up.
func (s *Store) SetPendingTOTP(ctx context.Context, userID uint, secret string) error {
	return s.w.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"totp_pending_secret": secret, "updated_at": s.Now()}).Error
}

// EnableTOTP turns two-factor authentication on with the pending secret
// and replaces the recovery codes, in one transaction. step is the time
// step of the code that confirmed it (used, so it cannot be replayed).
func (s *Store) EnableTOTP(ctx context.Context, userID uint, secret string, step int64, codeHashes []string) error {
	now := s.Now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"totp_secret": secret, "totp_pending_secret": "",
			"totp_enabled_at": now, "totp_last_step": step, "updated_at": now}).Error; err != nil {
			return err
		}
		return replaceRecoveryCodes(tx, userID, codeHashes, now)
	})
}

// DisableTOTP turns two-factor authentication off and drops the recovery codes.
func (s *Store) DisableTOTP(ctx context.Context, userID uint) error {
	now := s.Now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"totp_secret": "", "totp_pending_secret": "",
			"totp_enabled_at": nil, "totp_last_step": 0, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error
	})
}

// ReplaceRecoveryCodes gives a user a new set of recovery codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID uint, codeHashes []string) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return replaceRecoveryCodes(tx, userID, codeHashes, s.Now()) })
}

func replaceRecoveryCodes(tx *gorm.DB, userID uint, hashes []string, now time.Time) error {
	if err := tx.Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error; err != nil {
		return err
	}
	for _, h := range hashes {
		if err := tx.Create(&RecoveryCode{UserID: userID, CodeHash: h, CreatedAt: now}).Error; err != nil {
			return err
		}
	}
	return nil
}

// UseTOTPStep records that a code of this time step was used; false when
// this step (or a later one) was used already: a code works once.
func (s *Store) UseTOTPStep(ctx context.Context, userID uint, step int64) (bool, error) {
	r := s.w.WithContext(ctx).Model(&User{}).Where("id = ? AND totp_last_step < ?", userID, step).Update("totp_last_step", step)
	return r.RowsAffected == 1, r.Error
}

// UseRecoveryCode spends a recovery code; false when it is unknown or spent.
func (s *Store) UseRecoveryCode(ctx context.Context, userID uint, codeHash string) (bool, error) {
	r := s.w.WithContext(ctx).Model(&RecoveryCode{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, codeHash).
		Update("used_at", s.Now())
	return r.RowsAffected == 1, r.Error
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID uint) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return n, err
}

// UserByOIDCSubject finds the account bound to an identity provider account.
func (s *Store) UserByOIDCSubject(ctx context.Context, subject string) (*User, error) {
	var u User
	if err := s.w.WithContext(ctx).Where("oidc_subject = ?", subject).First(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}
