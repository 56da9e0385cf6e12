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
// Deduplication keys. An event id is unique within its dedup bucket
// (usage_events_dedup: UNIQUE (dedup_bucket, event_id)), a 25-hour slice
// of time, rather than among every event ever stored. Ids are usually
// random (UUIDv4); in an index led by the id each new one lands on a
// random page of everything ever received, so the working set of the
// index, and what a commit writes to the write-ahead log, grows with the
// table's whole history. Led by the bucket, new keys land only in the
// current bucket's slice at the right edge of the index: older slices are
// never written again (and fall out of the cache), whatever the table's
// age. Within the slice the order is still the id's.
//
// Why that keeps exactly-once counting. Only an event within the
// acceptance window (24 hours; 5 minutes ahead for clock skew) counts, so
// only ids within it need deduplicating: a repeat with an older timestamp
// is refused as too old whatever it was the first time. The bucket of an
// event is that of its own timestamp (UsageDedupBucket), not of when it
// arrived: two deliveries of one event, on two replicas at the same
// moment, compute the same (bucket, id), and the unique index lets one of
// them insert it (Postgres: ON CONFLICT DO NOTHING, the other answers
// duplicate; SQLite: writers take turns, IMMEDIATE transactions, and each
// reads before it writes). An event whose timestamp is missing or far
// outside the window (always rejected) is keyed by when it arrived.
// Looking up whether an id was seen probes every bucket a first delivery
// of it could be in (UsageDedupProbe: at most three, plus bucket 0 of the
// events stored before buckets existed); a repeat with the same id but
// another timestamp is thus still found within the window. The insert,
// the adds to usage_hours and the answer's bookkeeping are one
// transaction: a crash between them leaves none of them, and the repeat
// the client sends then counts once.

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
		qs = append(qs, usageLookupSQL(n))
	}
	qs = append(qs, usageLookupSQL(UsageEventChunk))
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

// singleWriter: on SQLite one transaction writes at a time, and ingestion
// has already read, in its own transaction, which ids exist and which hours
// are sealed: nothing can change under it, so its statements need not
// report back what they did (RETURNING), which is a third of their cost.
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
func (t *Tx) execStmt(ctx context.Context, us *UsageStatements, q string, args []any, cache bool) error {
	sqlTx, ok := t.db.Statement.ConnPool.(*sql.Tx)
	if !ok || !cache {
		return t.db.Exec(q, args...).Error
	}
	st := us.get(q)
	var err error
	if st == nil {
		_, err = sqlTx.ExecContext(ctx, q, args...)
	} else {
		_, err = sqlTx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return err
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

// UsageDedupWidth is the span of time of one dedup bucket (see the
// package's notes on deduplication keys): longer than the acceptance
// window, so that a first delivery is at most a few buckets back.
const UsageDedupWidth = 25 * time.Hour

// usageDedupReach is how far from now an event's timestamp may be and
// still key it: beyond, it is refused, and keyed by its arrival.
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

// UsageDedupProbe lists the buckets an earlier delivery of an event
// arriving now may be keyed in: those of the last 48 hours and 5
// minutes (an earlier delivery within the window, with the timestamp it
// had then), and 0 (events stored before buckets existed).
func UsageDedupProbe(now time.Time) []int64 {
	out := []int64{0}
	for b := UsageDedupBucket(now.Add(-usageDedupBack - usageDedupAhead)); b <= UsageDedupBucket(now.Add(usageDedupAhead)); b++ {
		out = append(out, b)
	}
	return out
}

// UsageEventsByID reads the stored events with these ids (event_id) an
// event arriving now may repeat, by id: what an earlier delivery of each
// got (status, reason, subscription, hour, late). When an id is stored
// twice (see UsageDedupBucket) the accepted one wins.
//
// It runs once per group of requests on the one writer, so its statements
// have a few fixed shapes prepared once (us): one bucket per statement (an
// equality on the index's first column keeps Postgres on the index; with
// two IN lists it may scan the table), the ids in chunks of
// UsageEventChunk, a short chunk padded with its last id. Bucket 0 (events
// stored before buckets existed) is probed only while the database has
// such events; nothing stores new ones.
func (t *Tx) UsageEventsByID(ctx context.Context, us *UsageStatements, ids []string, now time.Time) (map[string]UsageEvent, error) {
	prior := map[string]UsageEvent{}
	probe := UsageDedupProbe(now)
	legacy, err := t.legacyDedup()
	if err != nil {
		return nil, err
	}
	if !legacy {
		probe = probe[1:]
	}
	for _, b := range probe {
		for start := 0; start < len(ids); start += UsageEventChunk {
			chunk := ids[start:min(start+UsageEventChunk, len(ids))]
			n := lookupSize(len(chunk))
			args := make([]any, 1, n+1)
			args[0] = b
			for i := 0; i < n; i++ {
				args = append(args, chunk[min(i, len(chunk)-1)])
			}
			if err := t.scanPrior(ctx, us, n, args, prior); err != nil {
				return nil, err
			}
		}
	}
	return prior, nil
}

// lookupSize is the number of ids a lookup statement for n ids takes:
// n when small (prepared per size), else a full chunk.
func lookupSize(n int) int {
	if n <= usageSmallPrepared {
		return n
	}
	return UsageEventChunk
}

func usageLookupSQL(n int) string {
	return "SELECT event_id, status, reason, subscription_id, hour, late FROM usage_events WHERE dedup_bucket = ? AND event_id IN (" +
		strings.Repeat("?,", n-1) + "?)"
}

func (t *Tx) scanPrior(ctx context.Context, us *UsageStatements, n int, args []any, prior map[string]UsageEvent) error {
	rows, err := t.queryRows(ctx, us, usageLookupSQL(n), args, true)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r UsageEvent
		var sub sql.NullInt64
		var hour sql.NullTime
		if err := rows.Scan(&r.EventID, &r.Status, &r.Reason, &sub, &hour, &r.Late); err != nil {
			return err
		}
		if sub.Valid {
			id := uint(sub.Int64)
			r.SubscriptionID = &id
		}
		if hour.Valid {
			h := hour.Time.UTC()
			r.Hour = &h
		}
		if p, ok := prior[r.EventID]; !ok || p.Status != UsageAccepted {
			prior[r.EventID] = r
		}
	}
	return rows.Err()
}

// legacyDedup reports whether the database holds events of bucket 0
// (stored before buckets existed). Once it holds none it never will again:
// the answer is kept.
func (t *Tx) legacyDedup() (bool, error) {
	if t.legacy == nil {
		return true, nil
	}
	if t.legacy.Load() == legacyNone {
		return false, nil
	}
	var found []int64
	if err := t.db.Raw("SELECT 1 FROM usage_events WHERE dedup_bucket = 0 LIMIT 1").Scan(&found).Error; err != nil {
		return false, err
	}
	if len(found) == 0 {
		t.legacy.Store(legacyNone)
		return false, nil
	}
	return true, nil
}

// legacyNone: the database holds no events of bucket 0 (Store.legacy).
const legacyNone = 1

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
		var got []Subscription
		// A legacy buyer's account id may be known only from the
		// registration, which stores it on the customer.
		q := t.db.Preload("Plan").Preload("Offer").Preload("Customer").Where(`aws_customer_account_id IN ? OR aws_customer_identifier IN ? OR aws_license_arn IN ? OR azure_subscription_id IN ? OR azure_tenant_id IN ?
			OR customer_id IN (SELECT id FROM customers WHERE aws_account_id IN ? AND aws_account_id <> '')`,
			chunk, chunk, chunk, chunk, chunk, chunk)
		if err := q.Order("id").Find(&got).Error; err != nil {
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

// UsageHoursFrom reads the usage hours of these subscriptions from the
// given hour on.
func (t *Tx) UsageHoursFrom(subIDs []uint, from time.Time) ([]UsageHourState, error) {
	var out []UsageHourState
	for start := 0; start < len(subIDs); start += 900 {
		// (Scanned by hand: ingestion reads the hours of every group on the
		// one writer, and gorm's reflection was most of the cost.)
		rows, err := t.db.Table("usage_hours").Select("subscription_id, dimension, hour, sealed, quantity").
			Where("subscription_id IN ? AND hour >= ?", subIDs[start:min(start+900, len(subIDs))], from).Rows()
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
// (prepared for full chunks, see UsageStatements) and returns the event
// ids this transaction inserted: an id another replica stored first is
// left out (Postgres). On SQLite, the single writer, the caller has read
// in this transaction which ids exist: every event is inserted and the
// statement does not report back.
func (t *Tx) InsertUsageEvents(ctx context.Context, us *UsageStatements, evs []NewUsageEvent, now time.Time) (map[string]bool, error) {
	inserted := make(map[string]bool, len(evs))
	enc := newUsageEventArgs(t.singleWriter(), now)
	for start := 0; start < len(evs); start += UsageEventChunk {
		end := min(start+UsageEventChunk, len(evs))
		args := make([]any, 0, (end-start)*usageEventCols)
		for i := start; i < end; i++ {
			args = enc.append(args, &evs[i])
		}
		full := preparedSize(end-start, UsageEventChunk)
		if enc.lite {
			if err := t.execStmt(ctx, us, insertEventsPlainSQL(end-start), args, full); err != nil {
				return nil, err
			}
			for i := start; i < end; i++ {
				inserted[evs[i].EventID] = true
			}
			continue
		}
		if err := t.insertEventsReturning(ctx, us, end-start, args, full, inserted); err != nil {
			return nil, err
		}
	}
	return inserted, nil
}

// insertEventsReturning inserts n events (Postgres) and marks in inserted
// the ids the statement reports it inserted.
func (t *Tx) insertEventsReturning(ctx context.Context, us *UsageStatements, n int, args []any, full bool, inserted map[string]bool) error {
	rows, err := t.queryRows(ctx, us, insertEventsSQL(n), args, full)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		inserted[id] = true
	}
	return rows.Close()
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
// limit (Postgres only: on SQLite, the single writer, nothing changes
// between the caller's read of the hours and this write, so nothing is
// reported back).
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
		var want map[key]int
		if !lite {
			want = make(map[key]int, end-start)
		}
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
			if want != nil {
				want[key{a.SubscriptionID, a.Dimension, u}] = i
			}
		}
		args = append(args, false, limit)
		if lite {
			if err := t.execStmt(ctx, us, upsertHoursPlainSQL(end-start), args, preparedSize(end-start, UsageHourChunk)); err != nil {
				return nil, err
			}
			continue
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

// MoveUsageEventsLate moves events this transaction stored (at now) to
// another hour, marked late (their own hour was sealed while they were
// being added).
func (t *Tx) MoveUsageEventsLate(eventIDs []string, hour, now time.Time) error {
	probe := UsageDedupProbe(now)
	for start := 0; start < len(eventIDs); start += 900 {
		if err := t.db.Model(&UsageEvent{}).Where("dedup_bucket IN ? AND event_id IN ?", probe, eventIDs[start:min(start+900, len(eventIDs))]).
			Updates(map[string]any{"hour": hour, "late": true}).Error; err != nil {
			return err
		}
	}
	return nil
}

// RejectUsageEvents marks events this transaction stored (at now)
// rejected for reason: they count in no hour.
func (t *Tx) RejectUsageEvents(eventIDs []string, reason string, now time.Time) error {
	probe := UsageDedupProbe(now)
	for start := 0; start < len(eventIDs); start += 900 {
		if err := t.db.Model(&UsageEvent{}).Where("dedup_bucket IN ? AND event_id IN ?", probe, eventIDs[start:min(start+900, len(eventIDs))]).
			Updates(map[string]any{"status": UsageRejected, "reason": reason, "hour": nil, "late": false}).Error; err != nil {
			return err
		}
	}
	return nil
}

func insertEventsSQL(n int) string {
	return insertEventsPlainSQL(n) + " ON CONFLICT (dedup_bucket, event_id) DO NOTHING RETURNING event_id"
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
