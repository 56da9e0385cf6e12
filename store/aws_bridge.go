package store

import (
	"context"

	"gorm.io/gorm"
)

// AWSBridge hands the transaction's handle to the callees of server/awsmp
// that still take a *gorm.DB (subscriptions.ApplyTx and NoteTx,
// webhooks.EmitSubscription), so that awsmp itself works on Tx and imports
// no gorm. It goes once those take a *Tx.
func (t *Tx) AWSBridge() *gorm.DB { return t.db }

// ApplyInboxTx is ApplyInbox for a domain package working on Tx: fn
// applies the stored message inside the transaction that claims the
// attempt and records its outcome.
func (s *Store) ApplyInboxTx(ctx context.Context, m *InboxMessage, fn func(tx *Tx) (InboxOutcome, error)) error {
	return s.ApplyInbox(ctx, m, func(db *gorm.DB) (InboxOutcome, error) { return fn(s.wrap(db)) })
}
