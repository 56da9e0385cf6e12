package store

import (
	"context"
	"time"
)

// RevokeAPIKey makes a key stop working from at. False when there is no
// such key or it was revoked already.
func (s *Store) RevokeAPIKey(ctx context.Context, id uint, at time.Time) (bool, error) {
	r := s.w.WithContext(ctx).Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", at)
	return r.RowsAffected == 1, r.Error
}
