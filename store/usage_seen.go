package store

import (
	"context"
	"database/sql"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/kamstrup/intmap"
	"gorm.io/gorm"
)

// Deduplication of usage event ids (issue 18).
//
// An event id only needs to be unique within the dedup window: an event
// counts only when its timestamp is within the acceptance window (24
// hours; 5 minutes ahead for clock skew), so a repeat of an older event
// is refused as too old whatever it got the first time. A repeat within
// the window gets the answer its first delivery got, so ids are kept for
// 48 hours and 5 minutes of their key time (the event's own timestamp, or
// when it arrived when it had none or one far outside; usageDedupKeyTime):
// long enough for a repeat, a day later, of an event that was a day old
// when it first came.
//
// Ids are usually random (UUIDv4). In a B-tree keyed by the id each new
// one lands on a random page, so once the index outgrows a commit's batch
// every event writes a page of its own to the write-ahead log: a third of
// the rate of ids in sequence. So no index holds the ids: each process
// holds the window's ids in memory (UsageSeen: about 35 bytes an id, see
// BenchmarkUsageSeenMemory), and the table is written in row order only.
//
// Why that keeps exactly-once counting across replicas and crashes:
//   - Writers of usage events take turns: on SQLite every write transaction
//     holds the database's one write lock (IMMEDIATE transactions), and on
//     Postgres ingestion takes an advisory transaction lock (LockUsage)
//     before anything else. Row ids therefore grow in commit order.
//   - Holding that turn, a writer first reads the rows other processes added
//     since its last look (a sequential tail, id > last) into its set, then
//     answers the repeats from the set, then inserts. Nothing can be added
//     between its look and its insert.
//   - The set learns this process's own rows only once their transaction
//     has committed (UsageSeen.Stored); a transaction that fails leaves the
//     set as it was, and its events were never stored: the client's retry
//     counts once.
//   - A new process (a restart, another replica) loads the window's ids
//     from a read snapshot (LoadUsageSeen, without the turn: two million
//     ids take about 4.5 s, and writers need not wait), then reads the
//     rows stored after the snapshot's last under the turn, as above.
//   - The set only says where to look: a repeat's answer is read from its
//     row, whose event id is compared exactly (the set is keyed by a 64-bit
//     hash of the id).
//
// The cost: ingestion on Postgres replicas is serialised (each replica
// still gathers concurrent requests into one transaction), a process
// holds its window's ids in memory, and a start-up reads them.

// UsageSeen is one process's set of the usage event ids within the dedup
// window, with where each one's row is. The zero value is ready; one is
// kept per process (per Meter).
type UsageSeen struct {
	mu     sync.Mutex
	seed   maphash.Seed
	rows   seenTables           // hash of the id → its row, packed (see pack)
	more   map[uint64][]seenRow // further rows whose ids share a hash, or too large to pack (rare)
	last   int64                // the highest row id read or stored
	loaded bool
	swept  time.Time
}

// seenRow is one stored event: its row and its key time (minutes since
// the epoch).
type seenRow struct {
	id  int64
	key int32
}

// A row is packed into 64 bits, so that the map holds no pointers (the
// garbage collector never scans it) and a slot is 16 bytes: the key
// minute since 2020 in the low 25 bits (until 2083), the row id above
// (up to 2^39). A row that does not fit goes to the list of more.
const (
	packKeyBits = 25
	packKeyBase = 26297280 // 2020-01-01T00:00Z in minutes since the epoch
)

func pack(r seenRow) (uint64, bool) {
	k := int64(r.key) - packKeyBase
	if k < 0 || k >= 1<<packKeyBits || r.id < 0 || r.id >= 1<<(64-packKeyBits) {
		return 0, false
	}
	return uint64(r.id)<<packKeyBits | uint64(k), true
}

func unpack(v uint64) seenRow {
	return seenRow{id: int64(v >> packKeyBits), key: int32(int64(v&(1<<packKeyBits-1)) + packKeyBase)}
}

// seenTables map an id's hash to its packed row: 256 open-addressing
// tables (linear probing), chosen by the hash's top byte. The writer looks
// every event's id up twice (is it a repeat; after the commit, store it),
// in a set of millions that the caches do not hold: a Go map reads two or
// three lines of memory for a lookup (its directory's table, the group's
// control word, the slot), a flat table one; ingestion of batches spent
// a sixth of the writer's time in those lookups. A table grows by
// doubling and moving every entry at once; 256 of them keep each move to
// a 256th of the set (a few milliseconds at millions of ids).
type seenTables [256]*intmap.Map[uint64, uint64]

func newSeenTables() seenTables {
	var t seenTables
	for i := range t {
		t[i] = intmap.New[uint64, uint64](64)
	}
	return t
}

func (t *seenTables) of(h uint64) *intmap.Map[uint64, uint64] { return t[h>>56] }

func (t *seenTables) get(h uint64) (uint64, bool) { return t.of(h).Get(h) }

func (t *seenTables) put(h, v uint64) { t.of(h).Put(h, v) }

func (t *seenTables) len() int {
	n := 0
	for _, m := range t {
		n += m.Len()
	}
	return n
}

// drop deletes the entries keep refuses.
func (t *seenTables) drop(keep func(v uint64) bool) {
	var gone []uint64
	for _, m := range t {
		gone = gone[:0]
		for h, v := range m.All() {
			if !keep(v) {
				gone = append(gone, h)
			}
		}
		for _, h := range gone {
			m.Del(h)
		}
	}
}

// usageSweepEvery is how often ids past the window are dropped.
const usageSweepEvery = 10 * time.Minute

// usageLockKey is ingestion's advisory lock on Postgres.
const usageLockKey = 0x6d67_7573_6167_6531 // "mgusage1"

func keyMinute(t time.Time) int32 { return int32(t.Unix() / 60) }

// usageDedupCutoff is the oldest key minute still in the window at now.
func usageDedupCutoff(now time.Time) int32 {
	return keyMinute(now.Add(-usageDedupBack - usageDedupAhead))
}

// reset empties the set (a new seed: ids' hashes cannot be chosen to
// collide from outside).
func (s *UsageSeen) reset(now time.Time) {
	s.seed, s.rows, s.more, s.last, s.swept, s.loaded = maphash.MakeSeed(), newSeenTables(), map[uint64][]seenRow{}, 0, now, false
}

// Len is the number of ids held.
func (s *UsageSeen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.rows.len()
	for _, rs := range s.more {
		n += len(rs)
	}
	return n
}

func (s *UsageSeen) hash(id string) uint64 { return maphash.String(s.seed, id) }

// add records a stored row (idempotent).
func (s *UsageSeen) add(eventID string, row int64, key int32) {
	s.addHashed(s.hash(eventID), row, key)
}

func (s *UsageSeen) addHashed(h uint64, row int64, key int32) {
	v, ok := s.rows.get(h)
	packed, fits := pack(seenRow{row, key})
	switch {
	case !ok && fits:
		s.rows.put(h, packed)
	case ok && unpack(v).id == row:
	default:
		for _, m := range s.more[h] {
			if m.id == row {
				return
			}
		}
		s.more[h] = append(s.more[h], seenRow{row, key})
	}
	s.last = max(s.last, row)
}

// candidates lists the rows that may hold an earlier delivery of one of
// the ids (within the window at now), and the ids asked.
func (s *UsageSeen) candidates(ids []string, now time.Time) (rows []int64, asked map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := usageDedupCutoff(now)
	out := map[int64]bool{}
	for _, id := range ids {
		h := s.hash(id)
		if v, ok := s.rows.get(h); ok {
			if r := unpack(v); r.key >= cut {
				out[r.id] = true
			}
		}
		for _, r := range s.more[h] {
			if r.key >= cut {
				out[r.id] = true
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	asked = make(map[string]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	for r := range out {
		rows = append(rows, r)
	}
	return rows, asked
}

// sweep drops the ids past the window.
func (s *UsageSeen) sweep(now time.Time) {
	if now.Sub(s.swept) < usageSweepEvery && !s.swept.After(now) {
		return
	}
	s.swept = now
	cut := usageDedupCutoff(now)
	s.rows.drop(func(v uint64) bool { return unpack(v).key >= cut })
	for h, rs := range s.more {
		kept := rs[:0]
		for _, r := range rs {
			if r.key >= cut {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(s.more, h)
		} else {
			s.more[h] = kept
		}
	}
}

// Stored records the rows a committed transaction stored: evs[i] in row
// rows[i], at now (see InsertUsageEvents).
func (s *UsageSeen) Stored(evs []NewUsageEvent, rows []int64, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		return // the load reads them from the table
	}
	// Look every id up first, then store them: the lookups of the first
	// loop do not wait for each other, so the processor fetches many of
	// their slots from memory at once; adding one by one waited for each
	// slot in turn (a set of millions is not in the caches, and the
	// commit's work evicted what the repeat check had fetched).
	hs := make([]uint64, len(evs))
	for i := range evs {
		hs[i] = s.hash(evs[i].EventID)
		s.rows.get(hs[i]) // (not inlined: the compiler keeps the load)
	}
	for i := range evs {
		s.addHashed(hs[i], rows[i], keyMinute(usageDedupKeyTime(evs[i].OccurredAt, now)))
	}
}

// usageSeenSyncSQL reads the rows stored after the set's last one, in
// pages, walking the primary key from there. On Postgres the ingestion
// transaction turns sequential scans off first (SyncUsageSeen): every
// statement of it reads by an index, and the table grows too fast for
// its statistics. In a benchmark the prepared statement's generic plan,
// made while the table was small, was a sequential scan and a sort, kept
// while the table grew to half a million rows: 94 ms for each group of
// single events (519 requests/s against 6,200 in runs where autovacuum's
// statistics came in time to replace the plan).
const usageSeenSyncSQL = "SELECT id, event_id, occurred_at, received_at FROM usage_events WHERE id > ? ORDER BY id LIMIT 5000"

// SyncUsageSeen takes ingestion's turn (see the notes above: the write
// lock on SQLite, an advisory transaction lock on Postgres) and brings the
// set up to date with the table: at first the window's ids, then the rows
// other processes added since the last look (us: ingestion's prepared
// statements, or nil). Run it first in every transaction that stores
// usage events.
func (t *Tx) SyncUsageSeen(ctx context.Context, us *UsageStatements, s *UsageSeen, now time.Time) error {
	if t.dialect == Postgres {
		// (With the turn, sequential scans are off for the rest of the
		// transaction: see usageSeenSyncSQL.)
		if err := t.db.WithContext(ctx).Exec("SELECT set_config('enable_seqscan', 'off', true), pg_advisory_xact_lock(?)", int64(usageLockKey)).Error; err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if err := t.loadUsageSeen(ctx, s, now); err != nil {
			return err
		}
	} else {
		for {
			n, err := t.scanSeen(ctx, us, s, now, usageSeenSyncSQL, s.last)
			if err != nil {
				return err
			}
			if n < 5000 {
				break
			}
		}
	}
	s.sweep(now)
	return nil
}

// LoadUsageSeen reads the window's ids from a read snapshot (SQLite: a
// reader's transaction; Postgres: a repeatable-read one), outside
// ingestion's turn, so that a start-up with millions of ids holds up no
// writer. Row ids grow in commit order (see above), so every row up to
// the snapshot's largest id is in it; SyncUsageSeen reads the later ones.
func (s *Store) LoadUsageSeen(ctx context.Context, seen *UsageSeen, now time.Time) error {
	seen.mu.Lock()
	defer seen.mu.Unlock()
	opts := &sql.TxOptions{ReadOnly: true}
	if s.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return s.r.WithContext(ctx).Transaction(func(db *gorm.DB) error { return s.wrap(db).loadUsageSeen(ctx, seen, now) }, opts)
}

// loadUsageSeen reads the window's ids: the buckets it spans (by the
// usage_events_bucket index), and the events stored before buckets
// existed (bucket 0) that arrived within reach of it.
func (t *Tx) loadUsageSeen(ctx context.Context, s *UsageSeen, now time.Time) error {
	var last sql.NullInt64
	if err := t.db.WithContext(ctx).Raw("SELECT MAX(id) FROM usage_events").Row().Scan(&last); err != nil {
		return err
	}
	s.reset(now)
	from := now.Add(-usageDedupBack - usageDedupAhead)
	if _, err := t.scanSeen(ctx, nil, s, now, "SELECT id, event_id, occurred_at, received_at FROM usage_events WHERE dedup_bucket >= ?", UsageDedupBucket(from)); err != nil {
		return err
	}
	if _, err := t.scanSeen(ctx, nil, s, now, "SELECT id, event_id, occurred_at, received_at FROM usage_events WHERE dedup_bucket = 0 AND received_at >= ?", from.Add(-usageDedupAhead)); err != nil {
		return err
	}
	s.last = max(s.last, last.Int64)
	s.loaded = true
	return nil
}

// scanSeen adds the rows of a query (id, event_id, occurred_at,
// received_at) whose key time is within the window, and counts the rows.
// With us, the statement is one ingestion prepares once per process.
func (t *Tx) scanSeen(ctx context.Context, us *UsageStatements, s *UsageSeen, now time.Time, q string, arg any) (int, error) {
	rows, err := t.queryRows(ctx, us, q, []any{arg}, us != nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cut := usageDedupCutoff(now)
	n := 0
	for rows.Next() {
		n++
		var id int64
		var eventID string
		var occurred sql.NullTime
		var received time.Time
		if err := rows.Scan(&id, &eventID, &occurred, &received); err != nil {
			return 0, err
		}
		key := keyMinute(usageDedupKeyTime(occurred.Time, received))
		if key >= cut {
			s.add(eventID, id, key)
		}
		s.last = max(s.last, id)
	}
	return n, rows.Err()
}

// UsageEventsByID reads what an earlier delivery within the window got
// (status, reason, subscription, hour, late) for each of these event ids
// that has one, from the rows the set points at (compared by the id
// itself). Run SyncUsageSeen first in the same transaction. When an id
// is stored twice (a repeat of an event first stored before the window)
// the accepted one wins.
func (t *Tx) UsageEventsByID(ctx context.Context, s *UsageSeen, ids []string, now time.Time) (map[string]UsageEvent, error) {
	prior := map[string]UsageEvent{}
	rowIDs, asked := s.candidates(ids, now)
	for start := 0; start < len(rowIDs); start += 500 {
		chunk := rowIDs[start:min(start+500, len(rowIDs))]
		q := "SELECT id, event_id, status, reason, subscription_id, hour, late FROM usage_events WHERE id IN (" +
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := t.scanPrior(ctx, q, args, asked, prior); err != nil {
			return nil, err
		}
	}
	return prior, nil
}

func (t *Tx) scanPrior(ctx context.Context, q string, args []any, asked map[string]bool, prior map[string]UsageEvent) error {
	rows, err := t.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r UsageEvent
		var row int64
		var sub sql.NullInt64
		var hour sql.NullTime
		if err := rows.Scan(&row, &r.EventID, &r.Status, &r.Reason, &sub, &hour, &r.Late); err != nil {
			return err
		}
		if !asked[r.EventID] {
			continue // another id with the same hash
		}
		r.ID = uint(row)
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
