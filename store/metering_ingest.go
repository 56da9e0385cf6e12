package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The queries of usage ingestion (server/metering). Usage adds up per
// (subscription, dimension, UTC hour) in usage_hours; ingestion writes
// the events and adds them to their hours in one transaction, with large
// multi-row statements prepared once per process.
//
// Deduplication of event ids: see usage_seen.go.

// Rows per multi-row statement of ingestion; full chunks run as prepared
// statements (see UsageStatements).
const (
	UsageEventChunk = 400
	UsageHourChunk  = 500
)

// usageSmallPrepared: statements of up to this many rows are prepared too,
// for the small groups that concurrent single-event requests make.
const usageSmallPrepared = 64

// preparedSize reports whether statements of n rows of a chunk size are
// prepared (see PrepareUsageStatements).
func preparedSize(n, chunk int) bool { return n == chunk || n <= usageSmallPrepared }

// sqliteTimeLayout is how the SQLite driver writes a time (its
// SQLiteTimestampFormats[0]); binding text in this layout stores the same
// bytes a time.Time would.
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// UsageStatements holds the prepared statements for the large multi-row
// statements of ingestion: preparing a statement of hundreds of rows costs
// as much as running it, and full chunks always have the same text. The
// zero value is ready; one is kept per process (per Meter) and made ready
// by Store.PrepareUsageStatements.
type UsageStatements struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (us *UsageStatements) get(q string) *sql.Stmt {
	if us == nil {
		return nil
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	return us.m[q]
}

// PrepareUsageStatements makes the full-chunk statements of ingestion
// ready, outside any transaction (SQLite has one writer connection: a
// transaction holds it). It does so once; a statement that cannot be
// prepared simply runs unprepared.
func (s *Store) PrepareUsageStatements(ctx context.Context, us *UsageStatements) {
	us.mu.Lock()
	defer us.mu.Unlock()
	if us.m != nil {
		return
	}
	us.m = map[string]*sql.Stmt{}
	db, err := s.w.DB()
	if err != nil {
		return
	}
	var qs []string
	for _, n := range []int{UsageEventChunk, UsageHourChunk} {
		qs = append(qs, usageStatementTexts(s.Dialect, n, n == UsageEventChunk, n == UsageHourChunk)...)
	}
	for n := 1; n <= usageSmallPrepared; n++ {
		qs = append(qs, usageStatementTexts(s.Dialect, n, true, true)...)
	}
	for _, n := range usageHourReadSizes {
		qs = append(qs, usageHoursFromSQL(n))
	}
	qs = append(qs, usageSeenSyncSQL)
	for _, q := range qs {
		key := q
		if s.Dialect == Postgres {
			key = dollars(q)
		}
		if st, err := db.PrepareContext(ctx, key); err == nil {
			us.m[key] = st
		}
	}
}

// usageStatementTexts are the statements of n rows ingestion runs on
// dialect: its event inserts and its hour adds.
func usageStatementTexts(dialect string, n int, events, hours bool) []string {
	var qs []string
	if events {
		qs = append(qs, insertEventsSQL(n))
		if dialect == SQLite {
			qs = append(qs, insertEventsPlainSQL(n))
		}
	}
	if hours {
		qs = append(qs, upsertHoursSQL(n))
		if dialect == SQLite {
			qs = append(qs, upsertHoursPlainSQL(n))
		}
	}
	return qs
}

// singleWriter: on SQLite one transaction writes at a time: nothing can
// change under ingestion, so its statements need not report back what
// they did (RETURNING), which is a third of their cost. Its event inserts
// know their row ids without it, and its adds to the hours learn whether
// every one happened from the count of rows the statement changed.
func (t *Tx) singleWriter() bool { return t.dialect == SQLite }

// queryRows runs a statement returning rows inside the transaction,
// prepared once per process when its text is one of the few full-chunk
// shapes.
func (t *Tx) queryRows(ctx context.Context, us *UsageStatements, q string, args []any, cache bool) (*sql.Rows, error) {
	sqlTx, ok := t.db.Statement.ConnPool.(*sql.Tx)
	if !ok || !cache {
		return t.db.Raw(q, args...).Rows()
	}
	if t.dialect == Postgres {
		q = dollars(q)
	}
	st := us.get(q)
	if st == nil {
		// Not prepared yet (see PrepareUsageStatements): run it directly this time.
		return sqlTx.QueryContext(ctx, q, args...)
	}
	return sqlTx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// execStmt runs a statement without rows, prepared when it is a full chunk.
func (t *Tx) execStmt(ctx context.Context, us *UsageStatements, q string, args []any, cache bool) (sql.Result, error) {
	sqlTx, ok := t.db.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("usage statements run in a transaction")
	}
	var st *sql.Stmt
	if cache {
		st = us.get(q)
	}
	if st == nil {
		return sqlTx.ExecContext(ctx, q, args...)
	}
	return sqlTx.StmtContext(ctx, st).ExecContext(ctx, args...)
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

// UsageDedupWidth is the span of time of one dedup bucket: a 25-hour
// slice of key times. Each event's bucket is stored (usage_events_bucket)
// so that a process starting up finds the window's rows (usage_seen.go).
const UsageDedupWidth = 25 * time.Hour

// usageDedupBack and usageDedupAhead: how far from its arrival an event's
// timestamp may be and still key it (beyond, it is refused, and keyed by
// its arrival); ids are held for as long back, and as far ahead.
const (
	usageDedupBack  = 48 * time.Hour
	usageDedupAhead = 5 * time.Minute
)

// UsageDedupBucket is the dedup bucket of a time.
func UsageDedupBucket(at time.Time) int64 {
	return at.Unix() / int64(UsageDedupWidth/time.Second)
}

// usageDedupKeyTime is the time an event is keyed by: its timestamp, or
// when it arrived when it has none or one far outside the window.
func usageDedupKeyTime(occurred, now time.Time) time.Time {
	if occurred.IsZero() || occurred.Before(now.Add(-usageDedupBack)) || occurred.After(now.Add(usageDedupAhead)) {
		return now
	}
	return occurred
}

// SubscriptionsForUsage reads, with their plan and offer, the
// subscriptions usage may name: by a marketplace reference in refs (AWS
// account id, customer identifier or license ARN, Microsoft subscription
// or tenant id; an AWS account id also names the subscriptions of the
// customer registered with it, whose customer is loaded too), by customer
// id in customerIDs, and by subscription id in ids. A subscription may be
// listed more than once.
func (t *Tx) SubscriptionsForUsage(refs, customerIDs []string, ids []uint) ([]Subscription, error) {
	var subs []Subscription
	for start := 0; start < len(refs); start += 500 {
		chunk := refs[start:min(start+500, len(refs))]
		var found []uint
		if err := t.db.Raw(referenceIDsSQL, chunk, chunk, chunk, chunk, chunk, chunk).Scan(&found).Error; err != nil {
			return nil, err
		}
		got, err := t.subscriptionsByReference(found)
		if err != nil {
			return nil, err
		}
		subs = append(subs, got...)
	}
	for start := 0; start < len(customerIDs); start += 500 {
		var got []Subscription
		if err := t.db.Preload("Plan").Preload("Offer").Where("customer_id IN ?", customerIDs[start:min(start+500, len(customerIDs))]).
			Order("id").Find(&got).Error; err != nil {
			return nil, err
		}
		subs = append(subs, got...)
	}
	for start := 0; start < len(ids); start += 500 {
		got, err := t.SubscriptionsWithPlanByID(ids[start:min(start+500, len(ids))])
		if err != nil {
			return nil, err
		}
		subs = append(subs, got...)
	}
	return subs, nil
}

// UsageHourState is one usage_hours row: a subscription's usage of one
// dimension in one UTC hour, and whether it is sealed.
type UsageHourState struct {
	SubscriptionID uint
	Dimension      string
	Hour           time.Time
	Sealed         bool
	Quantity       float64
}

// UsageHoursFrom reads the usage hours of one dimension of these
// subscriptions from the given hour on: each subscription's a range of the
// table's key (subscription, dimension, hour). Its statement is prepared
// once per process (us): the subscriptions' list is padded, by repeating
// its last one, to one of a few lengths (usageHourReadSizes), so a group
// of any size runs one of them instead of preparing a statement of its own
// length each time.
func (t *Tx) UsageHoursFrom(ctx context.Context, us *UsageStatements, dimension string, subIDs []uint, from time.Time) ([]UsageHourState, error) {
	var out []UsageHourState
	chunk := usageHourReadSizes[len(usageHourReadSizes)-1]
	for start := 0; start < len(subIDs); start += chunk {
		ids := subIDs[start:min(start+chunk, len(subIDs))]
		n := usageHourReadSize(len(ids))
		args := make([]any, 0, n+2)
		for i := 0; i < n; i++ {
			args = append(args, int64(ids[min(i, len(ids)-1)]))
		}
		args = append(args, dimension, from)
		rows, err := t.queryRows(ctx, us, usageHoursFromSQL(n), args, true)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r UsageHourState
			if err := rows.Scan(&r.SubscriptionID, &r.Dimension, &r.Hour, &r.Sealed, &r.Quantity); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// usageHourReadSizes are the lengths UsageHoursFrom pads its list of
// subscriptions to (at most a few times the rows it needs; the last is
// its chunk, below SQLite's limit of bound parameters).
var usageHourReadSizes = []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900}

// usageHourReadSize is the smallest of usageHourReadSizes that holds n.
func usageHourReadSize(n int) int {
	for _, s := range usageHourReadSizes {
		if n <= s {
			return s
		}
	}
	return usageHourReadSizes[len(usageHourReadSizes)-1]
}

func usageHoursFromSQL(n int) string {
	return "SELECT subscription_id, dimension, hour, sealed, quantity FROM usage_hours WHERE subscription_id IN (" +
		strings.TrimSuffix(strings.Repeat("?,", n), ",") + ") AND dimension = ? AND hour >= ?"
}

// UsageHour reads one usage hour: whether it is sealed and its total (an
// hour not stored yet is open and empty).
func (t *Tx) UsageHour(subscriptionID uint, dimension string, hour time.Time) (sealed bool, quantity float64, err error) {
	var st struct {
		Sealed   bool
		Quantity float64
	}
	err = t.db.Table("usage_hours").Select("sealed, quantity").
		Where("subscription_id = ? AND dimension = ? AND hour = ?", subscriptionID, dimension, hour).Scan(&st).Error
	return st.Sealed, st.Quantity, err
}

// NewUsageEvent is one usage event as ingestion stores it (rejected ones
// too: a repeat gets the same answer).
type NewUsageEvent struct {
	EventID        string
	APIKeyID       *uint
	SubscriptionID uint   // 0: none (no subscription matched)
	Dimension      string // cut to 256 characters
	Quantity       float64
	OccurredAt     time.Time // zero: none
	Hour           *time.Time
	Late           bool
	Status         string
	Reason         string // cut to 300 characters
	Source         string
}

// InsertUsageEvents stores new usage events in multi-row statements
// (prepared for full chunks, see UsageStatements) and returns the row id
// of each (rows[i] is evs[i]'s). Their ids are not repeats (see
// UsageEventsByID) and not repeated among evs. On SQLite the rows of one
// statement take consecutive row ids (one more than the table's largest
// each; nothing else writes meanwhile), so they are known from the last
// without reading them back; on Postgres the statement returns them.
func (t *Tx) InsertUsageEvents(ctx context.Context, us *UsageStatements, evs []NewUsageEvent, now time.Time) ([]int64, error) {
	rows := make([]int64, len(evs))
	enc := newUsageEventArgs(t.singleWriter(), now)
	for start := 0; start < len(evs); start += UsageEventChunk {
		end := min(start+UsageEventChunk, len(evs))
		args := make([]any, 0, (end-start)*usageEventCols)
		for i := start; i < end; i++ {
			args = enc.append(args, &evs[i])
		}
		full := preparedSize(end-start, UsageEventChunk)
		if enc.lite {
			res, err := t.execStmt(ctx, us, insertEventsPlainSQL(end-start), args, full)
			if err != nil {
				return nil, err
			}
			last, err := res.LastInsertId()
			if err != nil {
				return nil, err
			}
			for i := start; i < end; i++ {
				rows[i] = last - int64(end-1-i)
			}
			continue
		}
		if err := t.insertEventsReturning(ctx, us, evs[start:end], args, full, rows[start:end]); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// insertEventsReturning inserts evs (Postgres) and puts each one's row id
// in rows.
func (t *Tx) insertEventsReturning(ctx context.Context, us *UsageStatements, evs []NewUsageEvent, args []any, full bool, rows []int64) error {
	res, err := t.queryRows(ctx, us, insertEventsSQL(len(evs)), args, full)
	if err != nil {
		return err
	}
	got := make(map[string]int64, len(evs))
	for res.Next() {
		var id int64
		var eventID string
		if err := res.Scan(&id, &eventID); err != nil {
			res.Close()
			return err
		}
		got[eventID] = id
	}
	if err := res.Close(); err != nil {
		return err
	}
	for i := range evs {
		if rows[i] = got[evs[i].EventID]; rows[i] == 0 {
			return errors.New("usage event " + evs[i].EventID + " was not stored")
		}
	}
	return nil
}

// usageEventCols is the number of arguments per event of the insert.
const usageEventCols = 13

// usageEventArgs makes the insert's arguments. On SQLite they are in the
// form the driver would bind them anyway (times as its text layout, ids as
// integers), so that database/sql has nothing to convert and repeated
// times are formatted once.
type usageEventArgs struct {
	lite       bool
	at         time.Time // now
	now        any
	hours      map[int64]string // SQLite: hour → its text
	lastTS     time.Time        // SQLite: the last occurrence time formatted…
	lastTSText string           // …and its text
}

func newUsageEventArgs(lite bool, now time.Time) usageEventArgs {
	a := usageEventArgs{lite: lite, at: now, now: now, hours: map[int64]string{}}
	if lite {
		a.now = now.UTC().Format(sqliteTimeLayout)
	}
	return a
}

// append appends the event's arguments, in the insert's column order.
func (a *usageEventArgs) append(args []any, e *NewUsageEvent) []any {
	var subID, occurred, hour, keyID any
	if e.SubscriptionID != 0 {
		subID = int64(e.SubscriptionID)
	}
	if !e.OccurredAt.IsZero() {
		occurred = a.occurred(e.OccurredAt)
	}
	if e.Hour != nil {
		hour = a.hour(*e.Hour)
	}
	if e.APIKeyID != nil {
		keyID = int64(*e.APIKeyID)
	}
	q := e.Quantity
	if math.IsNaN(q) || math.IsInf(q, 0) {
		q = 0
	}
	return append(args, UsageDedupBucket(usageDedupKeyTime(e.OccurredAt, a.at)), e.EventID, keyID, subID, cutUsageText(e.Dimension, 256), q, occurred, hour, e.Late, e.Status, cutUsageText(e.Reason, 300), e.Source, a.now)
}

// occurred is an occurrence time as bound; on SQLite events in a row
// mostly share it, so the last one's text is kept.
func (a *usageEventArgs) occurred(ts time.Time) any {
	if !a.lite {
		return ts.UTC()
	}
	if !ts.Equal(a.lastTS) || a.lastTSText == "" {
		a.lastTS, a.lastTSText = ts, ts.UTC().Format(sqliteTimeLayout)
	}
	return a.lastTSText
}

// hour is an hour as bound; on SQLite each hour's text is formatted once.
func (a *usageEventArgs) hour(h time.Time) any {
	if !a.lite {
		return h.UTC()
	}
	txt, ok := a.hours[h.Unix()]
	if !ok {
		txt = h.UTC().Format(sqliteTimeLayout)
		a.hours[h.Unix()] = txt
	}
	return txt
}

// cutUsageText shortens s to at most n bytes.
func cutUsageText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// UsageHourAdd is usage to add to one hour: its total and number of events.
type UsageHourAdd struct {
	SubscriptionID uint
	Dimension      string
	Hour           time.Time
	Quantity       float64
	Events         int64
}

// AddToUsageHours adds usage to its hours, each hour only while it is open
// and its total stays within limit (checked by the statement that adds),
// in multi-row statements prepared for full chunks. It returns the adds
// that did not happen: the hour was sealed or the total would have passed
// limit. On Postgres the statement returns the hours it added to. On
// SQLite it returns nothing (RETURNING costs a third of the statement):
// when it changed as many rows as it adds, every add happened; when not
// (rare: a sealed hour, a total at the limit), the chunk is undone to a
// savepoint and run again returning the hours, to learn which missed.
func (t *Tx) AddToUsageHours(ctx context.Context, us *UsageStatements, adds []UsageHourAdd, now time.Time, limit float64) ([]UsageHourAdd, error) {
	type key struct {
		sub  uint
		dim  string
		hour int64
	}
	var missed []UsageHourAdd
	lite := t.singleWriter()
	var nowArg any = now
	if lite {
		nowArg = now.UTC().Format(sqliteTimeLayout)
	}
	hours := map[int64]any{}
	for start := 0; start < len(adds); start += UsageHourChunk {
		end := min(start+UsageHourChunk, len(adds))
		args := make([]any, 0, (end-start)*7+2)
		for i := start; i < end; i++ {
			a := &adds[i]
			u := a.Hour.Unix()
			h, ok := hours[u]
			if !ok {
				h = time.Unix(u, 0).UTC()
				if lite {
					h = time.Unix(u, 0).UTC().Format(sqliteTimeLayout)
				}
				hours[u] = h
			}
			args = append(args, int64(a.SubscriptionID), a.Dimension, h, a.Quantity, a.Events, false, nowArg)
		}
		args = append(args, false, limit)
		if lite {
			all, err := t.addAllToUsageHours(ctx, us, end-start, args)
			if err != nil {
				return nil, err
			}
			if all {
				continue
			}
		}
		// The adds this chunk makes; those the statement returns happened.
		want := make(map[key]int, end-start)
		for i := start; i < end; i++ {
			want[key{adds[i].SubscriptionID, adds[i].Dimension, adds[i].Hour.Unix()}] = i
		}
		rows, err := t.queryRows(ctx, us, upsertHoursSQL(end-start), args, preparedSize(end-start, UsageHourChunk))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k key
			var h time.Time
			if err := rows.Scan(&k.sub, &k.dim, &h); err != nil {
				rows.Close()
				return nil, err
			}
			k.hour = h.UTC().Unix()
			delete(want, k)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		for _, i := range want {
			missed = append(missed, adds[i])
		}
	}
	return missed, nil
}

// addAllToUsageHours (SQLite) runs the n adds of args without RETURNING
// and reports whether every one happened (the statement changed n rows).
// When not, it leaves the table as it was before the statement.
func (t *Tx) addAllToUsageHours(ctx context.Context, us *UsageStatements, n int, args []any) (bool, error) {
	sqlTx, ok := t.db.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return false, errors.New("usage statements run in a transaction")
	}
	if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT usage_hours_add"); err != nil {
		return false, err
	}
	res, err := t.execStmt(ctx, us, upsertHoursPlainSQL(n), args, preparedSize(n, UsageHourChunk))
	var changed int64
	if err == nil {
		changed, err = res.RowsAffected()
	}
	if err == nil && changed != int64(n) {
		_, err = sqlTx.ExecContext(ctx, "ROLLBACK TO usage_hours_add")
	}
	if err != nil {
		return false, err
	}
	if _, err := sqlTx.ExecContext(ctx, "RELEASE usage_hours_add"); err != nil {
		return false, err
	}
	return changed == int64(n), nil
}

// MoveUsageEventsLate moves events this transaction stored (by row id)
// to another hour, marked late (their own hour was sealed while they were
// being added).
func (t *Tx) MoveUsageEventsLate(rows []int64, hour time.Time) error {
	return t.updateUsageRows(rows, map[string]any{"hour": hour, "late": true})
}

// RejectUsageEvents marks events this transaction stored (by row id)
// rejected for reason: they count in no hour.
func (t *Tx) RejectUsageEvents(rows []int64, reason string) error {
	return t.updateUsageRows(rows, map[string]any{"status": UsageRejected, "reason": reason, "hour": nil, "late": false})
}

// updateUsageRows sets fields on usage events by row id, in chunks.
func (t *Tx) updateUsageRows(rows []int64, fields map[string]any) error {
	for start := 0; start < len(rows); start += 900 {
		if err := t.db.Model(&UsageEvent{}).Where("id IN ?", rows[start:min(start+900, len(rows))]).Updates(fields).Error; err != nil {
			return err
		}
	}
	return nil
}

func insertEventsSQL(n int) string {
	return insertEventsPlainSQL(n) + " RETURNING id, event_id"
}

// UsageEventsInsertSQL is the plain multi-row insert of n usage events
// (the benchmarks' ceiling inserts the same rows with it).
func UsageEventsInsertSQL(n int) string { return insertEventsPlainSQL(n) }

func insertEventsPlainSQL(n int) string {
	return "INSERT INTO usage_events (dedup_bucket, event_id, api_key_id, subscription_id, dimension, quantity, occurred_at, hour, late, status, reason, source, received_at) VALUES " +
		strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?),", n-1) + "(?,?,?,?,?,?,?,?,?,?,?,?,?)"
}

func upsertHoursPlainSQL(n int) string {
	return strings.TrimSuffix(upsertHoursSQL(n), "\nRETURNING subscription_id, dimension, hour")
}

func upsertHoursSQL(n int) string {
	return "INSERT INTO usage_hours (subscription_id, dimension, hour, quantity, events, sealed, updated_at) VALUES " +
		strings.Repeat("(?,?,?,?,?,?,?),", n-1) + `(?,?,?,?,?,?,?) ON CONFLICT (subscription_id, dimension, hour) DO UPDATE SET quantity = usage_hours.quantity + excluded.quantity,
events = usage_hours.events + excluded.events, updated_at = excluded.updated_at
WHERE usage_hours.sealed = ? AND usage_hours.quantity + excluded.quantity <= ?
RETURNING subscription_id, dimension, hour`
}
