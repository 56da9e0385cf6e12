package store

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The queries of sealing, dispatch and health of metering records
// (server/metering). Sealing marks a usage hour sealed and reads its total
// in one statement, then writes its record in the same transaction;
// dispatch leases records before sending them and stores each outcome only
// while it still holds the lease.

// RecordDeadline selects metering records by their send deadline (the
// rule itself, sendDeadline, lives in server/metering): a record is
// selected when its hour is at or before WindowEnd (the marketplace's
// 24-hour window has closed), or when it is an AWS record of an hour
// before AWSMonthStart (AWS's month-end cutoff for that month has passed).
// A zero time leaves that part out. Times are bound in UTC: SQLite
// compares them as text.
type RecordDeadline struct {
	WindowEnd     time.Time
	AWSMonthStart time.Time
}

// SQL is the condition on metering_records and its arguments.
func (d RecordDeadline) SQL() (string, []any) {
	var parts []string
	var args []any
	if !d.WindowEnd.IsZero() {
		parts = append(parts, "hour <= ?")
		args = append(args, d.WindowEnd.UTC())
	}
	if !d.AWSMonthStart.IsZero() {
		c := "marketplace = ? AND hour < ?"
		if len(parts) > 0 {
			c = "(" + c + ")"
		}
		parts = append(parts, c)
		args = append(args, "aws", d.AWSMonthStart.UTC())
	}
	switch len(parts) {
	case 0:
		return "1 = 0", nil
	case 1:
		return parts[0], args
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

func (t *Tx) records() *gorm.DB { return t.db.Model(&MeteringRecord{}) }

// recordsByID is records() for a statement that names its records by id
// with further conditions (cond, args): the
// database reads them by the primary key alone, whatever its statistics
// say. Without statistics SQLite takes an equality on an indexed column
// (status) for about ten rows and prefers it to a list of more ids; NOT
// INDEXED keeps it on the rowid. Postgres, with statistics from when no
// record was pending (autovacuum's, between two hours' dispatches),
// likewise read every pending record through the status index for each
// lease renewal of 25 (20-80 ms at 60,000 pending, most of the database's
// time in a dispatch); wrapped in IS TRUE (the same rows: WHERE keeps only
// true), the conditions offer it no index but the primary key.
func (t *Tx) recordsByID(ids []uint, cond string, args ...any) *gorm.DB {
	args = append([]any{ids}, args...)
	if t.dialect == SQLite {
		return t.db.Model(&MeteringRecord{}).Table("metering_records NOT INDEXED").Where("id IN ? AND ("+cond+")", args...)
	}
	return t.records().Where("id IN ? AND ("+cond+") IS TRUE", args...)
}

// MeteringRecordsByID reads metering records, in id order.
func (t *Tx) MeteringRecordsByID(ids []uint) ([]MeteringRecord, error) {
	var recs []MeteringRecord
	return recs, t.db.Where("id IN ?", ids).Order("id").Find(&recs).Error
}

// ExpiringRecordIDs lists (at most limit, in id order) the pending
// records selected by d not yet warned about.
func (t *Tx) ExpiringRecordIDs(d RecordDeadline, limit int) ([]uint, error) {
	cond, args := d.SQL()
	var ids []uint
	err := t.records().Where("status = ? AND "+cond+" AND expiry_warned_at IS NULL", append([]any{RecordPending}, args...)...).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}

// MarkRecordsWarned stamps the expiry warning on those of the records not
// warned about yet and returns how many it stamped.
func (t *Tx) MarkRecordsWarned(ids []uint, now time.Time) (int64, error) {
	r := t.recordsByID(ids, "expiry_warned_at IS NULL").Update("expiry_warned_at", now)
	return r.RowsAffected, r.Error
}

// MeteringCounts is metering at a glance (see MeteringHealth).
type MeteringCounts struct {
	Pending  int64 // pending records
	Expiring int64 // pending records selected by the expiring deadline
	Accepted int64 // accepted since the given time
	Failed   int64 // rejected, duplicate or conflict since the given time
	Expired  int64 // expired records of hours since the given time
	Unsealed int64 // usage hours not sealed
}

// MeteringHealth counts the records by what needs attention: pending;
// pending and selected by expiring; accepted and failed (rejected,
// duplicate, conflict) settled since settledSince; expired of hours since
// expiredSince; and the usage hours not sealed yet. The pending, expired,
// and the accepted and failed of whole settled hours come from
// metering_record_counts (metering_counts.go), not from the records; the
// accepted and failed from settledSince to the next whole hour, and the
// expiring (a part of the pending), from the records.
func (t *Tx) MeteringHealth(expiring RecordDeadline, settledSince, expiredSince time.Time) (MeteringCounts, error) {
	settledSince = settledSince.UTC()
	whole := partHour(settledSince)
	h, err := t.healthCounts(whole, expiredSince)
	if err != nil {
		return h, err
	}
	for _, c := range []struct {
		dst      *int64
		statuses []string
	}{{&h.Accepted, []string{RecordAccepted}}, {&h.Failed, failedStatuses}} {
		n, err := t.settledInPart(c.statuses, settledSince, whole)
		if err != nil {
			return h, err
		}
		*c.dst += n
	}
	cond, args := expiring.SQL()
	if err = t.records().Where("status = ? AND "+cond, append([]any{RecordPending}, args...)...).Count(&h.Expiring).Error; err != nil {
		return h, err
	}
	return h, t.db.Table("usage_hours").Where("sealed = ?", false).Count(&h.Unsealed).Error
}

// MeteringRecordsByStatus counts the records of the hours since a time by
// status (from metering_record_counts).
func (t *Tx) MeteringRecordsByStatus(since time.Time) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := t.db.Table("metering_record_counts").Select("status, CAST(SUM(n) AS bigint) AS n").Where("hour >= ?", since).
		Group("status").Having("SUM(n) <> 0").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// OldestOpenUsageHour is the earliest hour before the given one that holds
// usage not sealed yet (ok false when there is none).
func (t *Tx) OldestOpenUsageHour(before time.Time) (hour time.Time, ok bool, err error) {
	var oldest []time.Time
	if err := t.db.Table("usage_hours").Where("sealed = ? AND hour < ?", false, before).
		Order("hour").Limit(1).Pluck("hour", &oldest).Error; err != nil {
		return time.Time{}, false, err
	}
	if len(oldest) == 0 {
		return time.Time{}, false, nil
	}
	return oldest[0], true, nil
}

// UsageSeries is one subscription's usage of one dimension.
type UsageSeries struct {
	SubscriptionID uint
	Dimension      string
}

// OpenUsageHours lists the series with usage not sealed yet in an hour.
func (t *Tx) OpenUsageHours(hour time.Time) ([]UsageSeries, error) {
	var open []UsageSeries
	return open, t.db.Table("usage_hours").Select("subscription_id, dimension").
		Where("hour = ? AND sealed = ?", hour, false).Scan(&open).Error
}

// SubscriptionsInStatesWithPlan lists, in id order with their plan and
// offer, the subscriptions in one of the states that have a plan: those
// after the id after, at most limit (0: all).
func (t *Tx) SubscriptionsInStatesWithPlan(states []string, after uint, limit int) ([]Subscription, error) {
	var subs []Subscription
	q := t.db.Preload("Plan").Preload("Offer").Where("state IN ? AND plan_id IS NOT NULL AND id > ?", states, after).Order("id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	return subs, q.Find(&subs).Error
}

// SubscriptionsWithPlanByID reads subscriptions with their plan and offer.
func (t *Tx) SubscriptionsWithPlanByID(ids []uint) ([]Subscription, error) {
	var subs []Subscription
	return subs, t.db.Preload("Plan").Preload("Offer").Where("id IN ?", ids).Find(&subs).Error
}

// SealUsageHours seals one hour of the given series (an hour without
// usage is stored sealed and empty) and returns each one's total, read by
// the statement that seals: usage added before it counts, usage after it
// finds the hour sealed.
func (t *Tx) SealUsageHours(hour time.Time, series []UsageSeries, now time.Time) (map[UsageSeries]float64, error) {
	var sb strings.Builder
	sb.WriteString("INSERT INTO usage_hours (subscription_id, dimension, hour, quantity, events, sealed, updated_at) VALUES ")
	args := make([]any, 0, len(series)*7+1)
	for i, s := range series {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(?,?,?,?,?,?,?)")
		args = append(args, s.SubscriptionID, s.Dimension, hour, 0.0, 0, true, now)
	}
	sb.WriteString(` ON CONFLICT (subscription_id, dimension, hour) DO UPDATE SET sealed = ?, updated_at = excluded.updated_at
RETURNING subscription_id, dimension, quantity`)
	args = append(args, true)
	rows, err := t.db.Raw(sb.String(), args...).Rows()
	if err != nil {
		return nil, err
	}
	totals := make(map[UsageSeries]float64, len(series))
	for rows.Next() {
		var s UsageSeries
		var q float64
		if err := rows.Scan(&s.SubscriptionID, &s.Dimension, &q); err != nil {
			rows.Close()
			return nil, err
		}
		totals[s] = q
	}
	return totals, rows.Close()
}

// CreateMeteringRecords stores new records, leaving out any whose
// (subscription, dimension, hour) already has one; it returns how many it
// stored.
func (t *Tx) CreateMeteringRecords(recs []MeteringRecord) (int64, error) {
	res := t.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&recs)
	return res.RowsAffected, res.Error
}

// pastDeadline is the condition on pending records past d and not leased
// at now.
func pastDeadline(d RecordDeadline, now time.Time) (string, []any) {
	cond, args := d.SQL()
	return "status = ? AND (lease_until IS NULL OR lease_until < ?) AND " + cond, append([]any{RecordPending, now}, args...)
}

func expiredSet(now time.Time, reason string) map[string]any {
	return map[string]any{"status": RecordExpired, "reason": reason, "settled_at": now, "updated_at": now, "lease_owner": "", "lease_until": nil}
}

// PendingRecordsPastDeadline lists (at most limit, in id order) the
// pending records selected by d that no pass leases at now.
func (t *Tx) PendingRecordsPastDeadline(d RecordDeadline, now time.Time, limit int) ([]uint, error) {
	cond, args := pastDeadline(d, now)
	var ids []uint
	return ids, t.records().Where(cond, args...).Order("id").Limit(limit).Pluck("id", &ids).Error
}

// ExpirePendingPastDeadline settles as expired, for reason, every pending
// record selected by d that no pass leases at now.
func (t *Tx) ExpirePendingPastDeadline(d RecordDeadline, now time.Time, reason string) error {
	cond, args := pastDeadline(d, now)
	return t.records().Where(cond, args...).Updates(expiredSet(now, reason)).Error
}

// ExpirePendingRecords settles those of the records still pending as
// expired, for reason.
func (t *Tx) ExpirePendingRecords(ids []uint, now time.Time, reason string) error {
	return t.recordsByID(ids, "status = ?", RecordPending).Updates(expiredSet(now, reason)).Error
}

// SettleRecordsOfSubscriptionsIn settles the pending records of the
// subscriptions in one of the states as not sent (RecordNotActive), for
// reason, and releases their leases.
func (t *Tx) SettleRecordsOfSubscriptionsIn(states []string, now time.Time, reason string) error {
	return t.records().
		Where("status = ? AND subscription_id IN (?)", RecordPending, t.db.Model(&Subscription{}).Select("id").Where("state IN ?", states)).
		Updates(map[string]any{"status": RecordNotActive, "reason": reason, "settled_at": now, "updated_at": now, "lease_owner": "", "lease_until": nil}).Error
}

// RecordPos is a place in the order of claims (hour, then id).
type RecordPos struct {
	Hour time.Time
	ID   uint
}

// DueRecordIDs lists (at most limit, oldest hour first) the pending
// records due at now (no retry waiting) that no pass leases, of the
// subscriptions in one of the states; after a position when after is not
// zero. A pass claims page after page: from where its last claim ended,
// the next one skips the records it leased and settled before. From the
// start, each claim on Postgres walked them all again, the settled ones
// as dead entries of the pending index until a vacuum (268 ms a claim at
// 60,000 records, most of a 100,000-subscription dispatch's reads).
func (t *Tx) DueRecordIDs(now time.Time, states []string, limit int, after RecordPos) ([]uint, error) {
	var ids []uint
	q := t.records()
	if t.dialect == SQLite {
		// Without statistics on the table SQLite prefers the equality on
		// status of metering_records_settled and sorts every pending
		// record for each claim: 205 ms a claim at 190,000 pending (a
		// million subscriptions), against 9 ms walking the partial index.
		q = t.db.Table("metering_records INDEXED BY metering_records_pending")
	}
	q = q.Select("metering_records.id").
		Joins("JOIN subscriptions ON subscriptions.id = metering_records.subscription_id").
		// status as a literal: the planners then read the partial index of
		// pending records (metering_records_pending) in claim order.
		Where("metering_records.status = '"+RecordPending+"' AND (metering_records.next_attempt_at IS NULL OR metering_records.next_attempt_at <= ?) AND (metering_records.lease_until IS NULL OR metering_records.lease_until < ?) AND subscriptions.state IN ?",
			now, now, states).
		Order("metering_records.hour, metering_records.id").Limit(limit)
	if after.ID != 0 {
		q = q.Where("(metering_records.hour, metering_records.id) > (?, ?)", after.Hour, after.ID)
	}
	err := q.Pluck("metering_records.id", &ids).Error
	return ids, err
}

// LeaseRecords leases to owner, until the given time, those of the
// records still pending that no pass leases at now, and returns the ones
// it won, in claim order (hour, then id) when ids are (DueRecordIDs). The
// lease condition is checked by the UPDATE itself: of two replicas racing
// for a record, one updates it.
func (t *Tx) LeaseRecords(ids []uint, owner string, now, until time.Time) ([]MeteringRecord, error) {
	var won []MeteringRecord
	for start := 0; start < len(ids); start += 900 {
		chunk := ids[start:min(start+900, len(ids))]
		if err := retryDeadlock(func() error {
			return t.recordsByID(chunk, "status = ? AND (lease_until IS NULL OR lease_until < ?)", RecordPending, now).
				Updates(map[string]any{"lease_owner": owner, "lease_until": until}).Error
		}); err != nil {
			return nil, err
		}
		var got []MeteringRecord
		if err := t.recordsByID(chunk, "lease_owner = ? AND status = ?", owner, RecordPending).Order("hour, id").Find(&got).Error; err != nil {
			return nil, err
		}
		won = append(won, got...)
	}
	return won, nil
}

// RenewLeases extends to until the lease of every pending record owner
// holds. On Postgres it locks them in id order first, the order in which
// the owner's own outcomes are stored (the dispatcher's store) and the
// statements by id lock theirs: in the order its scan met them, it
// deadlocked with a transaction storing outcomes.
func (t *Tx) RenewLeases(owner string, until time.Time) error {
	return retryDeadlock(func() error {
		held := t.db.Model(&MeteringRecord{}).Select("id").Where("lease_owner = ? AND status = ?", owner, RecordPending).Order("id")
		if t.dialect == Postgres {
			held = held.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		return t.records().Where("id IN (?)", held).Update("lease_until", until).Error
	})
}

// RenewHeldLeases extends to until the lease of those of the records owner
// still holds (pending), and returns how many it extended.
func (t *Tx) RenewHeldLeases(ids []uint, owner string, until time.Time) (int64, error) {
	var n int64
	err := retryDeadlock(func() error {
		res := t.recordsByID(ids, "lease_owner = ? AND status = ?", owner, RecordPending).Update("lease_until", until)
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// retryDeadlock runs one lease statement again when PostgreSQL chose it as
// the victim of a deadlock (SQLSTATE 40P01): two replicas' UPDATEs over
// overlapping records (one claiming records whose lease it sees expired,
// the other renewing them) lock the rows in different orders. Each lease
// statement runs on its own (not in a transaction) and checks its whole
// condition itself, so running it again is safe; SQLite, with one writer,
// never deadlocks.
func retryDeadlock(stmt func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = stmt(); err == nil || !strings.Contains(err.Error(), "40P01") {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

// HeldRecordIDs lists those of the records owner still holds (pending).
func (t *Tx) HeldRecordIDs(ids []uint, owner string) ([]uint, error) {
	var still []uint
	return still, t.recordsByID(ids, "lease_owner = ? AND status = ?", owner, RecordPending).Pluck("id", &still).Error
}

// RecordOutcome is what a send (or a decision not to send) did to one
// record.
type RecordOutcome struct {
	// Unsent: settled without a send (past its deadline); attempts and
	// sent_at stay as they were.
	Unsent bool
	// Retry: not settled; sent again at NextAttemptAt (Reason says why).
	Retry         bool
	NextAttemptAt time.Time
	// Otherwise the final status, its reason and the marketplace's id.
	Status              string
	Reason              string
	MarketplaceRecordID string
}

// StoreRecordOutcome writes the outcome of a record and releases its
// lease, only while owner still holds it (pending); ok tells whether it
// did.
func (t *Tx) StoreRecordOutcome(id uint, owner string, o RecordOutcome, now time.Time) (ok bool, err error) {
	upd := map[string]any{"attempts": gorm.Expr("attempts + 1"), "lease_owner": "", "lease_until": nil, "updated_at": now, "sent_at": now}
	if o.Unsent {
		upd = map[string]any{"lease_owner": "", "lease_until": nil, "updated_at": now}
	}
	if o.Retry {
		upd["next_attempt_at"], upd["reason"] = o.NextAttemptAt, o.Reason
	} else {
		upd["status"], upd["reason"], upd["marketplace_record_id"], upd["settled_at"] = o.Status, o.Reason, o.MarketplaceRecordID, now
	}
	res := t.recordsByID([]uint{id}, "lease_owner = ? AND status = ?", owner, RecordPending).Updates(upd)
	return res.RowsAffected == 1, res.Error
}

// IDOutcome is the outcome of one record, stored only while owner holds
// its lease.
type IDOutcome struct {
	ID      uint
	Owner   string
	Outcome RecordOutcome
}

// StoreRecordOutcomes stores the outcomes of a batch as StoreRecordOutcome
// stores one, each only while its owner still holds the record (pending),
// and returns the ids it stored. On SQLite it stores them one by one, in
// id order. On Postgres it locks the records in id order (the order
// renewals lock them in, see RenewLeases) and stores them all with one
// statement: one outcome a statement was most of a dispatch's statements,
// and each outcome that changes a record's status also fires the trigger
// of the records' counts (metering_counts.go).
func (t *Tx) StoreRecordOutcomes(outs []IDOutcome, now time.Time) (map[uint]bool, error) {
	outs = slices.Clone(outs)
	slices.SortFunc(outs, func(a, b IDOutcome) int { return cmp.Compare(a.ID, b.ID) })
	stored := make(map[uint]bool, len(outs))
	if t.dialect != Postgres {
		for _, o := range outs {
			ok, err := t.StoreRecordOutcome(o.ID, o.Owner, o.Outcome, now)
			if err != nil {
				return nil, err
			}
			if ok {
				stored[o.ID] = true
			}
		}
		return stored, nil
	}
	for len(outs) > 0 {
		chunk := outs[:min(len(outs), 500)]
		outs = outs[len(chunk):]
		ids := make([]uint, len(chunk))
		vals := make([]string, len(chunk))
		args := make([]any, 0, len(chunk)*8+3)
		args = append(args, now, now, now)
		for i, o := range chunk {
			ids[i] = o.ID
			vals[i] = "(?::bigint, ?::varchar, ?::boolean, ?::boolean, ?::timestamptz, ?::varchar, ?::text, ?::varchar)"
			var next *time.Time
			if o.Outcome.Retry {
				next = &o.Outcome.NextAttemptAt
			}
			args = append(args, o.ID, o.Owner, o.Outcome.Unsent, o.Outcome.Retry, next, o.Outcome.Status, o.Outcome.Reason, o.Outcome.MarketplaceRecordID)
		}
		if err := t.db.Exec("SELECT id FROM metering_records WHERE id IN ? ORDER BY id FOR UPDATE", ids).Error; err != nil {
			return nil, err
		}
		var got []uint
		err := t.db.Raw(`UPDATE metering_records AS r SET
				attempts = r.attempts + CASE WHEN v.unsent THEN 0 ELSE 1 END,
				sent_at = CASE WHEN v.unsent THEN r.sent_at ELSE ? END,
				updated_at = ?, lease_owner = '', lease_until = NULL,
				next_attempt_at = CASE WHEN v.retry THEN v.next_at ELSE r.next_attempt_at END,
				reason = v.reason,
				status = CASE WHEN v.retry THEN r.status ELSE v.status END,
				marketplace_record_id = CASE WHEN v.retry THEN r.marketplace_record_id ELSE v.mrid END,
				settled_at = CASE WHEN v.retry THEN r.settled_at ELSE ? END
			FROM (VALUES `+strings.Join(vals, ", ")+`) AS v (id, owner, unsent, retry, next_at, status, reason, mrid)
			WHERE r.id = v.id AND (r.lease_owner = v.owner AND r.status = ?) IS TRUE
			RETURNING r.id`, append(args, RecordPending)...).Scan(&got).Error
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			stored[id] = true
		}
	}
	return stored, nil
}

// RecordsPastDeadlineIn lists (id, marketplace, hour, status, reason) those
// of the records in one of the statuses, selected by d, that no pass
// leases at now.
func (t *Tx) RecordsPastDeadlineIn(ids []uint, statuses []string, d RecordDeadline, now time.Time) ([]MeteringRecord, error) {
	cond, args := d.SQL()
	var gone []MeteringRecord
	return gone, t.recordsByID(ids, "status IN ? AND (lease_until IS NULL OR lease_until < ?) AND "+cond, append([]any{statuses, now}, args...)...).
		Select("id, marketplace, hour, status, reason").
		Find(&gone).Error
}

// ExpireRecordFrom settles a record as expired, for reason, while it still
// has the status from (ok tells whether it did); its retry and lease are
// cleared.
func (t *Tx) ExpireRecordFrom(id uint, from string, now time.Time, reason string) (ok bool, err error) {
	res := t.recordsByID([]uint{id}, "status = ?", from).
		Updates(map[string]any{"status": RecordExpired, "reason": reason, "settled_at": now, "updated_at": now,
			"next_attempt_at": nil, "lease_owner": "", "lease_until": nil})
	return res.RowsAffected == 1, res.Error
}

// MakeRecordsDue makes those of the records in one of the statuses and
// not selected by d pending and due now, and returns how many.
func (t *Tx) MakeRecordsDue(ids []uint, statuses []string, d RecordDeadline, now time.Time) (int64, error) {
	cond, args := d.SQL()
	res := t.recordsByID(ids, "status IN ? AND NOT ("+cond+")", append([]any{statuses}, args...)...).
		Updates(map[string]any{"status": RecordPending, "next_attempt_at": nil, "settled_at": nil, "updated_at": now})
	return res.RowsAffected, res.Error
}
