package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Tx is one unit of work on the database, handed to the domain packages
// so that a change, its timeline entry, its inbox outcome and its outbox
// rows (webhook deliveries, alerts, metering records) commit together.
// Every query of this package that a domain package runs is a method of
// Tx (or of Store, for the ones that run on their own); the database
// handle inside stays unexported, so persistence has one home.
//
// A Tx comes from Store.InTx (one write transaction), Store.Reads (the
// reader pool, no transaction) or Store.Writes (the writer, one statement
// at a time, no transaction).
type Tx struct {
	db      *gorm.DB
	now     func() time.Time
	dialect string
	seats   *seatStatements // PreparedReads: FindSeat's prepared statements
	grams   *knownGrams     // SQLite: the grams the text index holds (search_grams.go)
}

// on returns t's queries on db (the same clock, dialect and caches).
func (t *Tx) on(db *gorm.DB) *Tx {
	c := *t
	c.db = db
	return &c
}

func (s *Store) wrap(db *gorm.DB) *Tx {
	return &Tx{db: db, now: s.Now, dialect: s.Dialect, grams: s.knownGrams}
}

// InTx runs fn in one write transaction: it commits when fn returns nil and
// rolls back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.tx(ctx, func(db *gorm.DB) error { return fn(s.wrap(db)) })
}

// tx runs fn in a write transaction on the gorm handle (InTx, and this
// package's own multi-statement methods). When fn wrote to a table grants
// are read from, the generation moves on once it has committed (see
// GrantGeneration).
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx, grants := grantTx(ctx)
	err := s.w.WithContext(ctx).Transaction(fn)
	if err == nil && grants.Load() {
		s.grantsChanged(ctx)
	}
	return err
}

// Reads returns the queries on the reader pool (on SQLite, readers run
// beside the one writer). Use it for reads that need no transaction.
func (s *Store) Reads(ctx context.Context) *Tx { return s.wrap(s.r.WithContext(ctx)) }

// Writes returns the queries on the writer, each statement on its own
// (no transaction): for single writes and for reads that must see the
// latest committed write.
func (s *Store) Writes(ctx context.Context) *Tx { return s.wrap(s.w.WithContext(ctx)) }

// Now is the store's clock (UTC).
func (t *Tx) Now() time.Time { return t.now() }

// Dialect is SQLite or Postgres.
func (t *Tx) Dialect() string { return t.dialect }

// Savepoint runs fn in a nested transaction (a SAVEPOINT on both
// databases). When fn fails on a unique key already taken (typically by a
// concurrent transaction that committed the same row first), the savepoint
// is rolled back, t stays usable (Postgres would abort the whole
// transaction otherwise) and the error wraps ErrConflict: the caller reads
// again and works on the row that won.
func (t *Tx) Savepoint(fn func(tx *Tx) error) error {
	err := t.db.Transaction(func(db *gorm.DB) error { return fn(t.on(db)) })
	if err != nil && IsUniqueViolation(err) && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// searchedColumns are the subscription columns its search digest is made
// of (see SearchTextFor); changing one recomputes the digest.
var searchedColumns = []string{"name", "customer_id", "aws_customer_account_id", "aws_license_arn",
	"aws_customer_identifier", "aws_product_code", "azure_subscription_id", "azure_tenant_id"}

// UpdateSubscription is the one place a stored subscription changes. It
// writes changes (column → value), bumps version, stamps updated_at and,
// when a searched field changes, recomputes the search digest. With
// ifVersion > 0 the write is optimistic: it only happens while the row
// still has that version, and ErrConflict says another writer came first.
// A missing subscription is ErrNotFound.
func (t *Tx) UpdateSubscription(id uint, ifVersion int, changes map[string]any) error {
	upd := make(map[string]any, len(changes)+2)
	for k, v := range changes {
		upd[k] = v
	}
	upd["version"] = gorm.Expr("version + 1")
	if _, ok := upd["updated_at"]; !ok {
		upd["updated_at"] = t.now()
	}
	delete(upd, "search_text")
	q := t.db.Model(&Subscription{}).Where("id = ?", id)
	if ifVersion > 0 {
		q = q.Where("version = ?", ifVersion)
	}
	r := q.Updates(upd)
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected == 0 {
		var n int64
		if err := t.db.Model(&Subscription{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return ErrConflict
	}
	for _, c := range searchedColumns {
		if _, ok := changes[c]; ok {
			return t.RefreshSearchText(id)
		}
	}
	return nil
}

// RefreshSearchText recomputes a subscription's search digest from its
// fields and its customer's (after a customer's name or e-mail changes,
// for example).
func (t *Tx) RefreshSearchText(id uint) error {
	var sub Subscription
	if err := t.db.Where("id = ?", id).Take(&sub).Error; err != nil {
		return notFound(err)
	}
	var cust *Customer
	if sub.CustomerID != nil {
		var c Customer
		if err := t.db.Where("id = ?", *sub.CustomerID).Limit(1).Find(&c).Error; err != nil {
			return err
		}
		if c.ID != 0 {
			cust = &c
		}
	}
	text := SearchTextFor(&sub, cust)
	if text == sub.SearchText {
		return nil
	}
	if err := t.db.Model(&Subscription{}).Where("id = ?", id).UpdateColumn("search_text", text).Error; err != nil {
		return err
	}
	_, err := t.indexSearch(0, id) // the text index follows in the same transaction
	return err
}
