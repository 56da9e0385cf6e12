package store

import "gorm.io/gorm"

// WithGorm runs fn on the unit of work's database handle.
//
// Deprecated: a bridge for the transactional helpers that still take a
// *gorm.DB (server/subscriptions' ApplyTx and NoteTx, used by
// server/azuremp through subscriptions.ApplyIn and NoteIn). It goes when
// they take a *Tx, with Store.W, Store.R and Store.Tx.
func (t *Tx) WithGorm(fn func(db *gorm.DB) error) error { return fn(t.db) }
