package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Counts of metering records by hour and status (issue 18).
//
// The metering health (the metering page asks every 15 s, the observer
// every 30 s), the records-by-status metric and the records list's total
// counted the records themselves: a day, a week and all of them, on every
// call. With a week of 6,000 records an hour (10,000 subscriptions), one
// observation took 480 ms on SQLite and 230 ms on Postgres
// (BenchmarkMeteringHealthAfterAWeek); the cost grew with every hour kept
// and every subscription, until at a million subscriptions one
// observation would not end before the next. metering_record_counts holds
// instead, for each record hour, the hour its records settled in (none
// while unsettled) and their status, how many records there are: a few
// rows an hour.
//
// The database keeps it in step itself, with triggers on metering_records,
// so that every way a record is written, changed or deleted counts
// (sealing, dispatch outcomes, expiry, a retry, a subscription's cascade,
// a manual statement):
//   - SQLite, the single writer, adds to the key's one row (an upsert); an
//     unsettled record's settled hour is the empty string there.
//   - Postgres replicas storing outcomes of the same hour at once would
//     queue on (and could deadlock over) a shared counter row until each
//     commit. So the triggers only append: +n for a record's new key, -n
//     for its old one; readers sum a key's rows, and
//     FoldMeteringRecordCounts folds each key's rows into one now and then.
//     Inserts and deletes add a row per key and statement (statement
//     triggers over their transition tables: sealing inserts thousands of
//     records a statement); an update adds two rows per record whose key
//     changed, and a statement that changes no key (a lease renewal) does
//     not call the trigger at all. The table has no key and no index (see
//     the migration): readers scan it.
//
// The metering health reads its four counts in one pass.

// migrateMeteringRecordCounts (202612050020_metering_record_counts) makes
// the table and its triggers, then counts the records already stored.
// Triggers first: on Postgres creating them takes a lock that waits for
// writers in flight and holds off new ones until the migration commits,
// so no record is counted twice or missed.
func migrateMeteringRecordCounts(dialect string, tx *gorm.DB) error {
	// Postgres: a bare heap, no key and no index. Every outcome the
	// dispatcher stores appends two rows, and with a key and two indexes
	// storing a batch's outcomes took 188-204 µs a record against 153-175
	// without the counts; bare, 174-179. Readers scan it: a few rows an
	// hour once folded.
	stmts := []string{`CREATE TABLE metering_record_counts (
			hour timestamptz NOT NULL,
			settled_hour timestamptz,
			status varchar(24) NOT NULL,
			n bigint NOT NULL
		)`}
	if dialect == SQLite {
		stmts = []string{`CREATE TABLE metering_record_counts (
				id integer PRIMARY KEY,
				hour datetime NOT NULL,
				settled_hour datetime NOT NULL DEFAULT '',
				status varchar(24) NOT NULL,
				n bigint NOT NULL
			)`,
			`CREATE UNIQUE INDEX metering_record_counts_key ON metering_record_counts (hour, settled_hour, status)`,
		}
	}
	if dialect == Postgres {
		stmts = append(stmts, meteringCountTriggersPostgres...)
	} else {
		stmts = append(stmts, meteringCountTriggersSQLite()...)
	}
	stmts = append(stmts, `INSERT INTO metering_record_counts (hour, settled_hour, status, n)
		SELECT hour, `+settledHourOf(dialect, "settled_at")+`, status, COUNT(*) FROM metering_records GROUP BY 1, 2, 3`)
	for _, stmt := range stmts {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migration 202612050020_metering_record_counts: %w", err)
		}
	}
	return nil
}

// settledHourOf is the SQL of the hour a settled_at column's time falls in
// (UTC): on SQLite text in the form the driver writes UTC times in, as a
// record's hour column is, and the empty string for NULL; on Postgres
// NULL for NULL.
func settledHourOf(dialect, col string) string {
	if dialect == Postgres {
		return "date_trunc('hour', " + col + " AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
	}
	return "COALESCE(strftime('%Y-%m-%d %H:00:00+00:00', " + col + "), '')"
}

func meteringCountTriggersSQLite() []string {
	add := func(key, n string) string {
		return `INSERT INTO metering_record_counts (hour, settled_hour, status, n) VALUES (` + key + `, ` + n + `)
			ON CONFLICT (hour, settled_hour, status) DO UPDATE SET n = n + excluded.n;`
	}
	oldKey := "old.hour, " + settledHourOf(SQLite, "old.settled_at") + ", old.status"
	newKey := "new.hour, " + settledHourOf(SQLite, "new.settled_at") + ", new.status"
	return []string{
		`CREATE TRIGGER metering_records_count_insert AFTER INSERT ON metering_records BEGIN
			` + add(newKey, "1") + `
		END`,
		`CREATE TRIGGER metering_records_count_update AFTER UPDATE OF hour, status, settled_at ON metering_records
			WHEN old.hour IS NOT new.hour OR old.status IS NOT new.status OR ` +
			settledHourOf(SQLite, "old.settled_at") + ` IS NOT ` + settledHourOf(SQLite, "new.settled_at") + ` BEGIN
			` + add(oldKey, "-1") + `
			` + add(newKey, "1") + `
		END`,
		`CREATE TRIGGER metering_records_count_delete AFTER DELETE ON metering_records BEGIN
			` + add(oldKey, "-1") + `
		END`,
	}
}

// meteringCountTriggersPostgres: statement triggers for inserts and
// deletes, a row trigger for the updates that change a record's key.
var meteringCountTriggersPostgres = []string{
	`CREATE FUNCTION metering_records_count() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP = 'INSERT' THEN
			INSERT INTO metering_record_counts (hour, settled_hour, status, n)
			SELECT hour, ` + settledHourOf(Postgres, "settled_at") + `, status, COUNT(*) FROM new_rows GROUP BY 1, 2, 3;
		ELSE
			INSERT INTO metering_record_counts (hour, settled_hour, status, n)
			SELECT hour, ` + settledHourOf(Postgres, "settled_at") + `, status, -COUNT(*) FROM old_rows GROUP BY 1, 2, 3;
		END IF;
		RETURN NULL;
	END $$`,
	`CREATE FUNCTION metering_records_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
	DECLARE
		was timestamptz := ` + settledHourOf(Postgres, "OLD.settled_at") + `;
		now_in timestamptz := ` + settledHourOf(Postgres, "NEW.settled_at") + `;
	BEGIN
		IF OLD.hour IS DISTINCT FROM NEW.hour OR OLD.status IS DISTINCT FROM NEW.status OR was IS DISTINCT FROM now_in THEN
			INSERT INTO metering_record_counts (hour, settled_hour, status, n)
			VALUES (OLD.hour, was, OLD.status, -1), (NEW.hour, now_in, NEW.status, 1);
		END IF;
		RETURN NULL;
	END $$`,
	`CREATE TRIGGER metering_records_count_insert AFTER INSERT ON metering_records
		REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metering_records_count()`,
	`CREATE TRIGGER metering_records_count_update AFTER UPDATE OF hour, status, settled_at ON metering_records
		FOR EACH ROW WHEN (OLD.hour IS DISTINCT FROM NEW.hour OR OLD.status IS DISTINCT FROM NEW.status OR OLD.settled_at IS DISTINCT FROM NEW.settled_at)
		EXECUTE FUNCTION metering_records_count_change()`,
	`CREATE TRIGGER metering_records_count_delete AFTER DELETE ON metering_records
		REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metering_records_count()`,
}

// FoldMeteringRecordCounts folds the rows of each key of
// metering_record_counts into one, none when the key counts nothing, and
// returns how many rows it removed. On SQLite, where each key has one row,
// it removes the keys that count nothing. The sums do not change, whatever
// records change meanwhile: on Postgres one statement deletes the rows and
// adds back the sum of exactly the rows it deleted (a row another
// replica's fold deleted first is not among them; a row added after the
// statement began is not touched).
func (s *Store) FoldMeteringRecordCounts(ctx context.Context) (int64, error) {
	if s.Dialect == SQLite {
		r := s.Writes(ctx).db.Exec("DELETE FROM metering_record_counts WHERE n = 0")
		return r.RowsAffected, r.Error
	}
	var r struct{ Deleted, Added int64 }
	err := s.Writes(ctx).db.Raw(`WITH gone AS (
			DELETE FROM metering_record_counts WHERE hour IN (SELECT hour FROM metering_record_counts
				GROUP BY hour, settled_hour, status HAVING COUNT(*) > 1 OR SUM(n) = 0)
			RETURNING hour, settled_hour, status, n),
		added AS (
			INSERT INTO metering_record_counts (hour, settled_hour, status, n)
			SELECT hour, settled_hour, status, SUM(n) FROM gone GROUP BY 1, 2, 3 HAVING SUM(n) <> 0
			RETURNING 1)
		SELECT (SELECT COUNT(*) FROM gone) AS deleted, (SELECT COUNT(*) FROM added) AS added`).Scan(&r).Error
	return r.Deleted - r.Added, err
}

// healthCounts reads in one pass over metering_record_counts the pending
// records, those accepted and failed (rejected, duplicate, conflict) in
// whole settled hours since settledHour, and the expired of the hours
// since expiredSince.
func (t *Tx) healthCounts(settledHour, expiredSince time.Time) (h MeteringCounts, err error) {
	sum := func(cond string) string { return "CAST(COALESCE(SUM(CASE WHEN " + cond + " THEN n END), 0) AS bigint)" }
	row := t.db.Raw("SELECT "+sum("status = ?")+", "+sum("status = ? AND settled_hour >= ?")+", "+sum("status IN ? AND settled_hour >= ?")+", "+
		sum("status = ? AND hour >= ?")+" FROM metering_record_counts",
		RecordPending, RecordAccepted, settledHour, failedStatuses, settledHour, RecordExpired, expiredSince).Row()
	err = row.Scan(&h.Pending, &h.Accepted, &h.Failed, &h.Expired)
	return h, err
}

// failedStatuses are the settled statuses the metering health counts as
// failed.
var failedStatuses = []string{RecordRejected, RecordDuplicate, RecordConflict}

// partHour is the time from since to the next whole hour ([since, whole);
// empty when since is on the hour).
func partHour(since time.Time) (whole time.Time) {
	since = since.UTC()
	whole = since.Truncate(time.Hour)
	if whole.Before(since) {
		whole = whole.Add(time.Hour)
	}
	return whole
}

// settledInPart counts the records of the statuses settled from since to
// whole, by the index of status and settled_at (at most an hour of them).
func (t *Tx) settledInPart(statuses []string, since, whole time.Time) (int64, error) {
	if !whole.After(since) {
		return 0, nil
	}
	var n int64
	return n, t.records().Where("status IN ? AND settled_at >= ? AND settled_at < ?", statuses, since, whole).Count(&n).Error
}
