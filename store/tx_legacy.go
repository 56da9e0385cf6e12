package store

import (
	"time"

	"gorm.io/gorm"
)

// LegacyTx wraps a transaction handed out by the old Store.Tx (or
// ApplyInbox) as a Tx, so that code not yet moved to InTx can call the
// domain functions that take a Tx. Its clock is the wall clock (UTC): the
// domain functions called this way take their time as a parameter.
//
// It is temporary: it goes with Store.Tx once every caller uses InTx.
func LegacyTx(db *gorm.DB) *Tx {
	return &Tx{db: db, now: func() time.Time { return time.Now().UTC() }, dialect: db.Dialector.Name()}
}
