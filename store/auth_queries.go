package store

import "context"

// The queries of sign-in protection (server/auth) that store/throttle.go
// does not cover.

// ThrottleRow reads a throttle counter by its key (ErrNotFound when there
// is none).
func (s *Store) ThrottleRow(ctx context.Context, key string) (*Throttle, error) {
	var row Throttle
	if err := s.w.WithContext(ctx).Where("key = ?", key).First(&row).Error; err != nil {
		return nil, notFound(err)
	}
	return &row, nil
}
