package subscriptions

import (
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/store"
)

// ApplyIn is ApplyTx inside a store unit of work (store.Store.InTx), for
// the domain packages that no longer hold a *gorm.DB.
func ApplyIn(tx *store.Tx, now time.Time, ref Ref, ev lifecycle.Event, meta Meta, init Init) (Result, error) {
	var res Result
	err := tx.WithGorm(func(db *gorm.DB) error {
		var err error
		res, err = ApplyTx(db, now, ref, ev, meta, init)
		return err
	})
	return res, err
}

// NoteIn is NoteTx inside a store unit of work.
func NoteIn(tx *store.Tx, now time.Time, subID uint, kind string, at time.Time, summary string, meta Meta) error {
	return tx.WithGorm(func(db *gorm.DB) error { return NoteTx(db, now, subID, kind, at, summary, meta) })
}
