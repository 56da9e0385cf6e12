package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"
)

// NormalizeEmail folds an e-mail address for lookups.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateUser inserts a user; ErrConflict when the e-mail is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Email = NormalizeEmail(u.Email)
	return notFound(s.w.WithContext(ctx).Create(u).Error)
}

// UserByEmail finds a user by e-mail.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.w.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).First(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id uint) (*User, error) {
	var u User
	if err := s.r.WithContext(ctx).First(&u, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// CountUsers counts every user.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.w.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}

// ListUsers lists users, seller staff first; customerID limits to one customer.
func (s *Store) ListUsers(ctx context.Context, customerID uint) ([]User, error) {
	var us []User
	q := s.r.WithContext(ctx).Order("customer_id IS NOT NULL, email")
	if customerID != 0 {
		q = q.Where("customer_id = ?", customerID)
	}
	return us, q.Find(&us).Error
}

// SetPassword stores a new password hash and clears must-change.
func (s *Store) SetPassword(ctx context.Context, userID uint, hash string, mustChange bool) error {
	return s.w.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"password_hash": hash, "must_change_password": mustChange, "updated_at": s.Now()}).Error
}

// UpsertAdmin makes sure an admin with this e-mail exists with this
// password hash (for MARKETGATE_ADMIN_EMAIL / _PASSWORD). It reports
// whether the user was created.
func (s *Store) UpsertAdmin(ctx context.Context, email, hash string) (bool, error) {
	created := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var u User
		err := tx.Where("email = ?", NormalizeEmail(email)).Limit(1).Find(&u).Error
		if err != nil {
			return err
		}
		now := s.Now()
		if u.ID == 0 {
			created = true
			return tx.Create(&User{Email: NormalizeEmail(email), Name: "Administrator", PasswordHash: hash,
				Role: RoleAdmin, CreatedAt: now, UpdatedAt: now}).Error
		}
		return tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"password_hash": hash, "role": RoleAdmin, "customer_id": nil, "disabled": false,
			"must_change_password": false, "updated_at": now}).Error
	})
	return created, err
}

// TouchLogin records a successful sign-in.
func (s *Store) TouchLogin(ctx context.Context, userID uint, at time.Time) error {
	return s.w.WithContext(ctx).Model(&User{}).Where("id = ?", userID).Update("last_login_at", at).Error
}

// SessionKey is how a session id is stored: its SHA-256, so a copy of the
// database (or a read of the table) does not hand out live sessions. The
// cookie carries the id itself.
func SessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// SessionByID returns a live session by the id the cookie carries; the
// row's ID is the stored key (SessionKey).
func (s *Store) SessionByID(ctx context.Context, id string) (*Session, error) {
	var ss Session
	err := s.r.WithContext(ctx).Where("id = ? AND expires_at > ?", SessionKey(id), s.Now()).First(&ss).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &ss, nil
}

// SaveSession inserts or updates a session; ss.ID is the cookie's id and
// is stored as SessionKey(ss.ID).
func (s *Store) SaveSession(ctx context.Context, ss *Session) error {
	row := *ss
	row.ID = SessionKey(ss.ID)
	ss = &row
	now := s.Now()
	if ss.CreatedAt.IsZero() {
		ss.CreatedAt = now
	}
	ss.UpdatedAt = now
	return s.w.WithContext(ctx).Save(ss).Error
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.w.WithContext(ctx).Where("id = ?", SessionKey(id)).Delete(&Session{}).Error
}

// DeleteUserSessions signs a user out everywhere except keepID.
func (s *Store) DeleteUserSessions(ctx context.Context, userID uint, keepID string) error {
	return s.w.WithContext(ctx).Where("user_id = ? AND id <> ?", userID, SessionKey(keepID)).Delete(&Session{}).Error
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	r := s.w.WithContext(ctx).Where("expires_at <= ?", s.Now()).Delete(&Session{})
	return r.RowsAffected, r.Error
}

// SetValues records an audited change's values before and after it, as
// JSON (nil: none), the same way for every caller.
func (e *AuditEntry) SetValues(before, after any) {
	if before != nil {
		b, _ := json.Marshal(before)
		e.Before = string(b)
	}
	if after != nil {
		b, _ := json.Marshal(after)
		e.After = string(b)
	}
}

// Audit appends an audit entry.
func (s *Store) Audit(ctx context.Context, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.Now()
	}
	return s.w.WithContext(ctx).Create(e).Error
}
