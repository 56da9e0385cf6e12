package store

import "gorm.io/gorm"

// WithGorm runs fn on the unit of work's database handle. It is a
// temporary bridge for the transactional helpers that still take a
// *gorm.DB (server/subscriptions' ApplyTx and NoteTx, which server/azuremp
// reaches through subscriptions.ApplyIn and NoteIn): it goes when they
// take a *Tx, with Store.W, Store.R and Store.Tx. Nothing else uses it.
func (t *Tx) WithGorm(fn func(db *gorm.DB) error) error { return fn(t.db) }
