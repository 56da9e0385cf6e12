package store

import "context"

// Row reads the row of model T (a table's model in this package: User,
// Customer, WebhookEndpoint, AlertChannel, ...) with primary key id, on the
// writer so it sees the latest committed write; ErrNotFound when there is
// none. It is for handlers that load the row a path names before acting on
// it; queries with conditions get their own method.
func Row[T any](ctx context.Context, s *Store, id uint) (*T, error) {
	var row T
	if err := s.w.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err)
	}
	return &row, nil
}
