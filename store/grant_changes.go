package store

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Grant changes: what lets a process cache who may use the product (the
// seat check, the API key, a tenant's consent) without answering from data
// it has itself changed, and with a short bound on data another replica
// changed. Every write to the tables a grant is read from (subscriptions,
// plans, offers, customers, seats; API keys; a Microsoft tenant's consent
// and the permissions an offer asks for), once committed,
//   - moves this process's own count on at once, and
//   - moves the database's count on (grant_generation, one row), in a
//     statement of its own right after the commit.
// GrantGeneration is the sum of the two, the database's as read at most
// GrantRecheck ago: a cache entry read before either moved is no longer
// used. A process that stops between a commit and the database's count
// leaves that change unseen by the others until their caches' own time to
// live (a minute): the bound for that rare case, and for a write made
// behind the store's back (SQL by hand).

// GrantRecheck is how often a process reads the database's count of grant
// changes (when it is asked for the generation at all): the bound on how
// long a change committed by another replica may go unseen by its caches.
const GrantRecheck = 200 * time.Millisecond

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

// GrantGeneration is the count of committed writes to the tables grants
// are read from: this process's own, plus the database's count as read at
// most GrantRecheck ago (by the store's clock). Read it before reading a
// grant; the grant read may be reused while it has not moved.
func (s *Store) GrantGeneration() uint64 {
	if s.grantGen == nil {
		return 0
	}
	return s.grantGen.Load() + s.sharedGrants()
}

// sharedGen is the database's count of grant changes as last read.
type sharedGen struct {
	n    atomic.Uint64
	at   atomic.Int64 // when read (unix nanoseconds, the store's clock); 0: never
	busy atomic.Bool  // one reader at a time; the others use the last value
}

func (s *Store) sharedGrants() uint64 {
	g := s.shared
	if g == nil {
		return 0
	}
	now := s.Now().UnixNano()
	at := g.at.Load()
	if at != 0 && now >= at && now-at < int64(GrantRecheck) {
		return g.n.Load()
	}
	if !g.busy.CompareAndSwap(false, true) {
		return g.n.Load()
	}
	defer g.busy.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var n []int64
	if err := s.r.WithContext(ctx).Raw("SELECT n FROM grant_generation WHERE id = 1").Scan(&n).Error; err != nil || len(n) != 1 {
		// Unreadable (or not migrated yet): count it as a change, so
		// nothing cached before is used.
		g.at.Store(now)
		return g.n.Add(1 << 40)
	}
	g.n.Store(uint64(n[0]))
	g.at.Store(now)
	return uint64(n[0])
}

// grantsChanged moves both counts on, after a commit.
func (s *Store) grantsChanged(ctx context.Context) {
	if s.grantGen == nil {
		return
	}
	s.grantGen.Add(1)
	// When this fails the other replicas see the change within their
	// caches' own time to live; this process has already seen it.
	_ = s.w.WithContext(context.WithoutCancel(ctx)).Exec("UPDATE grant_generation SET n = n + 1 WHERE id = 1").Error
}

// watchGrantTables registers the callbacks that move the generation.
func (s *Store) watchGrantTables() {
	hook := func(db *gorm.DB) {
		if db.Error != nil || db.Statement == nil || db.Statement.Context.Value(notAGrantKey{}) != nil || !touchesGrants(db.Statement) {
			return
		}
		if flag, ok := db.Statement.Context.Value(grantTxKey{}).(*atomic.Bool); ok {
			flag.Store(true) // Store.tx moves the generation once it has committed
			return
		}
		if _, inTx := db.Statement.ConnPool.(gorm.TxCommitter); inTx {
			// A transaction not begun by Store.tx (the migrations', tests'
			// own): this process's count only (a failed statement would
			// end a Postgres transaction; the table may not exist yet).
			s.grantGen.Add(1)
			return
		}
		s.grantsChanged(db.Statement.Context)
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
