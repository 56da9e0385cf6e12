package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Throttle is one rate-limit counter, shared by every replica through the
// database: how many events a key had since FirstAt, and until when it is
// refused.
type Throttle struct {
	Key          string `gorm:"primaryKey;size:100"`
	Count        int
	FirstAt      time.Time
	LastAt       time.Time
	BlockedUntil *time.Time
}

// TableName keeps the table name stable.
func (Throttle) TableName() string { return "throttles" }

// ThrottleHit counts one event for key at now and returns the count. The
// count starts again when the key has been quiet for idle, or its first
// counted event is older than window. Concurrent hits from several
// replicas are serialised by the row's upsert.
func (s *Store) ThrottleHit(ctx context.Context, key string, idle, window time.Duration, now time.Time) (int, error) {
	var out Throttle
	err := s.tx(ctx, func(tx *gorm.DB) error {
		restart := gorm.Expr("(throttles.last_at <= ? OR throttles.first_at <= ?)", now.Add(-idle), now.Add(-window))
		r := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.Assignments(map[string]any{
			"count":         gorm.Expr("CASE WHEN ? THEN 1 ELSE throttles.count + 1 END", restart),
			"first_at":      gorm.Expr("CASE WHEN ? THEN ? ELSE throttles.first_at END", restart, now),
			"blocked_until": gorm.Expr("CASE WHEN ? THEN NULL ELSE throttles.blocked_until END", restart),
			"last_at":       now,
		})}).Create(&Throttle{Key: key, Count: 1, FirstAt: now, LastAt: now})
		if r.Error != nil {
			return r.Error
		}
		return tx.Where("key = ?", key).First(&out).Error
	})
	return out.Count, err
}

// ThrottleBlock refuses key until the given time (never shortening a block).
func (s *Store) ThrottleBlock(ctx context.Context, key string, until time.Time) error {
	return s.w.WithContext(ctx).Model(&Throttle{}).
		Where("key = ? AND (blocked_until IS NULL OR blocked_until < ?)", key, until).
		Update("blocked_until", until).Error
}

// ThrottleBlockedUntil returns the latest block of the keys still running
// at now (zero time: none).
func (s *Store) ThrottleBlockedUntil(ctx context.Context, keys []string, now time.Time) (time.Time, error) {
	var rows []Throttle
	if err := s.w.WithContext(ctx).Where("key IN ? AND blocked_until > ?", keys, now).Find(&rows).Error; err != nil {
		return time.Time{}, err
	}
	var until time.Time
	for _, r := range rows {
		if r.BlockedUntil != nil && r.BlockedUntil.After(until) {
			until = *r.BlockedUntil
		}
	}
	return until, nil
}

// ThrottleReset forgets a key.
func (s *Store) ThrottleReset(ctx context.Context, key string) error {
	return s.w.WithContext(ctx).Where("key = ?", key).Delete(&Throttle{}).Error
}

// PurgeThrottles removes counters quiet since before and no longer blocking.
func (s *Store) PurgeThrottles(ctx context.Context, before, now time.Time) (int64, error) {
	r := s.w.WithContext(ctx).Where("last_at < ? AND (blocked_until IS NULL OR blocked_until <= ?)", before, now).Delete(&Throttle{})
	return r.RowsAffected, r.Error
}
