package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// RaiseAlertOnce records an alert (type and key identify it) unless it was
// raised before; it reports whether it raised it now. For alerts that must
// be told once, not counted (a secret's expiry thresholds).
func (s *Store) RaiseAlertOnce(ctx context.Context, typ, key, title, detail, link string, now time.Time) (bool, error) {
	raised := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Alert{}).Where("type = ? AND key = ?", typ, key).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		raised = true
		return tx.Create(&Alert{Type: typ, Key: key, Title: title, Detail: detail, Link: link, Count: 1, FirstAt: now, LastAt: now}).Error
	})
	return raised, err
}
