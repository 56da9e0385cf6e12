package metering

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/store"
)

// Prepared statements for the large multi-row statements of ingestion:
// preparing a statement of hundreds of rows costs as much as running it,
// and full chunks always have the same text.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// queryRows runs a statement returning rows inside tx, prepared once per
// process when its text is one of the few full-chunk shapes.
func (m *Meter) queryRows(ctx context.Context, tx *gorm.DB, q string, args []any, cache bool) (*sql.Rows, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok || !cache {
		return tx.Raw(q, args...).Rows()
	}
	if m.Store.Dialect == store.Postgres {
		q = dollars(q)
	}
	m.stmts.mu.Lock()
	st := m.stmts.m[q]
	m.stmts.mu.Unlock()
	if st == nil {
		// Not prepared yet (see prepare): run it directly this time.
		return sqlTx.QueryContext(ctx, q, args...)
	}
	return sqlTx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// prepare makes the full-chunk statements ready, outside any transaction
// (SQLite has one writer connection: a transaction holds it).
func (m *Meter) prepare(ctx context.Context) {
	m.stmts.mu.Lock()
	defer m.stmts.mu.Unlock()
	if m.stmts.m != nil {
		return
	}
	m.stmts.m = map[string]*sql.Stmt{}
	db, err := m.Store.W.DB()
	if err != nil {
		return
	}
	qs := []string{insertEventsSQL(eventChunk), upsertHoursSQL(hourChunk)}
	if m.singleWriter() {
		qs = append(qs, insertEventsPlainSQL(eventChunk), upsertHoursPlainSQL(hourChunk))
	}
	for _, q := range qs {
		key := q
		if m.Store.Dialect == store.Postgres {
			key = dollars(q)
		}
		if st, err := db.PrepareContext(ctx, key); err == nil {
			m.stmts.m[key] = st
		}
	}
}

// dollars numbers the placeholders for Postgres ($1, $2, …).
func dollars(q string) string {
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// execStmt runs a statement without rows, prepared when it is a full chunk.
func (m *Meter) execStmt(ctx context.Context, tx *gorm.DB, q string, args []any, cache bool) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok || !cache {
		return tx.Exec(q, args...).Error
	}
	m.stmts.mu.Lock()
	st := m.stmts.m[q]
	m.stmts.mu.Unlock()
	var err error
	if st == nil {
		_, err = sqlTx.ExecContext(ctx, q, args...)
	} else {
		_, err = sqlTx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return err
}

// singleWriter: on SQLite one transaction writes at a time, and ingestion
// has already read, in its own transaction, which ids exist and which hours
// are sealed: nothing can change under it, so its statements need not
// report back what they did (RETURNING), which is a third of their cost.
func (m *Meter) singleWriter() bool { return m.Store.Dialect == store.SQLite }
