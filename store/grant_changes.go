package store

import (
	"context"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"
)

// Grant changes: what lets a process cache who may use the product (the
// seat check) without ever answering from data it has itself changed.
// Every write this process makes to the tables a grant is read from
// (subscriptions, plans, offers, customers, seats; API keys; a Microsoft
// tenant's consent and the permissions an offer asks for) moves GrantGeneration
// on once it is committed; a cache entry read before the move is no
// longer used. Writes by another replica are not seen here: a cache
// bounds those by its own time to live.

// grantTables are the tables a grant depends on (matched in the
// statement's table or, for raw SQL, its text).
var grantTables = []string{"subscriptions", "plans", "offers", "customers", "seats", "api_keys", "tenant_consents", "offer_permissions"}

type grantTxKey struct{}

type notAGrantKey struct{}

// notAGrantChange marks writes that change nothing a grant is read from
// (when a seat was last checked).
func notAGrantChange(ctx context.Context) context.Context {
	return context.WithValue(ctx, notAGrantKey{}, true)
}

// GrantGeneration is the count of committed writes this process made to
// the tables grants are read from. Read it before reading a grant; the
// grant read may be reused while it has not moved.
func (s *Store) GrantGeneration() uint64 {
	if s.grantGen == nil {
		return 0
	}
	return s.grantGen.Load()
}

// grantsChanged moves the generation on.
func (s *Store) grantsChanged() {
	if s.grantGen != nil {
		s.grantGen.Add(1)
	}
}

// watchGrantTables registers the callbacks that move the generation.
func (s *Store) watchGrantTables() {
	hook := func(db *gorm.DB) {
		if db.Error != nil || db.Statement == nil || db.Statement.Context.Value(notAGrantKey{}) != nil || !touchesGrants(db.Statement) {
			return
		}
		if flag, ok := db.Statement.Context.Value(grantTxKey{}).(*atomic.Bool); ok {
			flag.Store(true) // InTx moves the generation once it has committed
			return
		}
		s.grantsChanged()
	}
	cb := s.w.Callback()
	_ = cb.Create().After("gorm:create").Register("marketgate:grants", hook)
	_ = cb.Update().After("gorm:update").Register("marketgate:grants", hook)
	_ = cb.Delete().After("gorm:delete").Register("marketgate:grants", hook)
	_ = cb.Raw().After("gorm:raw").Register("marketgate:grants", hook)
}

func touchesGrants(st *gorm.Statement) bool {
	text := st.Table
	if text == "" {
		text = st.SQL.String()
	}
	for _, t := range grantTables {
		if strings.Contains(text, t) {
			return true
		}
	}
	return false
}

// grantTx marks ctx so that writes to grant tables inside the
// transaction move the generation after it commits.
func grantTx(ctx context.Context) (context.Context, *atomic.Bool) {
	flag := &atomic.Bool{}
	return context.WithValue(ctx, grantTxKey{}, flag), flag
}
