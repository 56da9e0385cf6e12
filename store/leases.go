package store

import (
	"context"
	"time"
)

// TryLease takes or renews the named lease for owner until now+ttl. It
// reports whether owner holds it: replicas use it so that one of them does
// a periodic job at a time.
func (s *Store) TryLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	now := s.Now()
	res := s.w.WithContext(ctx).Exec(`INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
WHERE leases.until < ? OR leases.owner = excluded.owner`, name, owner, now.Add(ttl), now)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// ReleaseLease gives a lease up (when owner holds it).
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	return s.w.WithContext(ctx).Exec(`DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner).Error
}
