package store

import (
	"context"

	"gorm.io/gorm"
)

// ApplyInboxTx is ApplyInbox for a domain package working on Tx: fn
// applies the stored message inside the transaction that claims the
// attempt and records its outcome.
func (s *Store) ApplyInboxTx(ctx context.Context, m *InboxMessage, fn func(tx *Tx) (InboxOutcome, error)) error {
	return s.ApplyInbox(ctx, m, func(db *gorm.DB) (InboxOutcome, error) { return fn(s.wrap(db)) })
}
