package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// The grams the subscriptions' text index holds (SQLite).
//
// FTS4 finds a token by seeking it in every segment of the index, and a
// seek reads the leaf the token would sort into whole. A token that no
// digest holds sorts beside others, and beside a common one (a letter, a
// pair of letters, "cus") that leaf is the common token's list of
// documents, up to megabytes at a million subscriptions: two characters no
// subscription holds took 2.5 to 27 ms there, against 0.8 ms at 100,000;
// with the table 0.1 ms at both. The table held 5,249 grams at a million
// synthetic subscriptions; listing them for a database indexed before it
// took about 40 seconds there.
// So every trigram and short gram any indexed digest holds is kept in a
// table of its own (subscription_search_grams, an index of a few tens of
// thousands of short strings, added to and never deleted from), written in
// the transaction that indexes the digest (indexSearch): a term one of
// whose grams is not there is in no indexed document, and the search then
// reads only the queued rows (searchPlanFor, plan.absent).
//
// A gram stays in the table when the last digest holding it goes: the
// search then asks the index, as it did without the table. Which grams
// are already in the table is kept in memory (knownGrams), read from the
// committed table only (the readers), so that indexing a digest tries to
// insert only grams it has not seen there; a transaction that rolls back
// leaves nothing behind in it.
//
// A database upgraded to the table holds documents indexed before it: the
// migration leaves a row in subscription_search_grams_fill, and the
// search.index job (FillSearchGrams; the migrate command too) adds those documents' grams in
// batches from the row's next id on, then deletes the row. Until then the
// table is not asked.

// The notification log's key index (inbox_key_search) has a table of its
// own the same way (inbox_key_search_grams, of the keys folded to lower
// case), written by its indexing job (indexInboxKeys) and filled after an
// upgrade by FillInboxKeyGrams: a key none holds at a million messages
// 0.9 to 1.8 ms without it, 0.1 to 0.2 ms with it; its fill took 34 s
// there.

// knownGrams are the grams known to be in a table of grams (committed),
// read incrementally by the table's ids.
type knownGrams struct {
	table string   // subscription_search_grams or inbox_key_search_grams; its fill row is in table_fill
	reads *gorm.DB // the readers: only what is committed is known
	mu    sync.Mutex
	set   map[string]struct{}
	last  int64       // the highest id read
	ready atomic.Bool // no fill row: every indexed document's grams are in the table
}

func newKnownGrams(table string, reads *gorm.DB) *knownGrams {
	return &knownGrams{table: table, reads: reads}
}

// docGrams are the index's columns of each text (searchGrams), and every
// gram they hold, once.
func docGrams(texts []string) ([][2]string, map[string]struct{}) {
	docs := make([][2]string, len(texts))
	all := map[string]struct{}{}
	for i, text := range texts {
		docs[i][0], docs[i][1] = searchGrams(text)
		digestGrams(docs[i][0], docs[i][1], all)
	}
	return docs, all
}

// digestGrams are the tokens of a digest's tri and bi columns, each once.
func digestGrams(tri, bi string, into map[string]struct{}) {
	for _, col := range []string{tri, bi} {
		for _, g := range strings.Fields(col) {
			into[g] = struct{}{}
		}
	}
}

// unknown returns the grams of want not known to be in the table, after
// reading what was added to it since the last read.
func (k *knownGrams) unknown(ctx context.Context, want map[string]struct{}) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for refreshed := false; ; refreshed = true {
		out = out[:0]
		for g := range want {
			if _, ok := k.set[g]; !ok {
				out = append(out, g)
			}
		}
		if len(out) == 0 || refreshed {
			return out, nil
		}
		if err := k.refresh(ctx); err != nil {
			return nil, err
		}
	}
}

// refresh reads the grams added since the last read (k.mu held).
func (k *knownGrams) refresh(ctx context.Context) error {
	if k.set == nil {
		k.set = map[string]struct{}{}
	}
	for {
		var rows []struct {
			ID   int64
			Gram string
		}
		if err := k.reads.WithContext(ctx).Raw("SELECT id, gram FROM "+k.table+" WHERE id > ? ORDER BY id LIMIT 10000", k.last).Scan(&rows).Error; err != nil {
			return err
		}
		for _, row := range rows {
			k.set[row.Gram] = struct{}{}
			k.last = row.ID
		}
		if len(rows) < 10000 {
			return nil
		}
	}
}

// addGrams inserts the grams of the digests that the table may lack, in
// the indexing transaction (t.grams nil: the migration that made the index
// again, before the table existed, which leaves it to the fill).
func (t *Tx) addGrams(ctx context.Context, want map[string]struct{}) error {
	return addGrams(ctx, t.db, t.grams, want)
}

// addGrams inserts into k's table, on db, the grams of want it may lack
// (k nil: nothing).
func addGrams(ctx context.Context, db *gorm.DB, k *knownGrams, want map[string]struct{}) error {
	if k == nil || len(want) == 0 {
		return nil
	}
	missing, err := k.unknown(ctx, want)
	if err != nil {
		return err
	}
	for len(missing) > 0 {
		n := min(len(missing), 500)
		args := make([]any, n)
		for i, g := range missing[:n] {
			args[i] = g
		}
		if err := db.Exec("INSERT OR IGNORE INTO "+k.table+" (gram) VALUES (?)"+strings.Repeat(", (?)", n-1), args...).Error; err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}

// gramsFillBatch is how many rows one transaction of the fill reads (a
// variable for a test).
var gramsFillBatch = 5000

// FillSearchGrams adds the grams of the subscriptions indexed before the
// table of grams existed (the fill row's next id on), a batch a
// transaction, and deletes the fill row when it has read the last; it
// returns how many subscriptions it read.
func (s *Store) FillSearchGrams(ctx context.Context) (int, error) {
	return s.fillGrams(ctx, s.knownGrams, "SELECT id, search_text AS text FROM subscriptions WHERE id > ? ORDER BY id LIMIT ?", func(text string) string { return text })
}

// FillInboxKeyGrams is FillSearchGrams for the inbound messages' keys; it
// returns how many messages it read.
func (s *Store) FillInboxKeyGrams(ctx context.Context) (int, error) {
	return s.fillGrams(ctx, s.keyKnownGrams, "SELECT id, dedup_key AS text FROM inbox_messages WHERE id > ? ORDER BY id LIMIT ?", strings.ToLower)
}

// fillGrams fills k's table from the rows query reads (id, text: the
// next id and a batch size as arguments), each text folded by fold as its
// index folds it.
func (s *Store) fillGrams(ctx context.Context, k *knownGrams, rowsQuery string, fold func(string) string) (int, error) {
	if s.Dialect != SQLite || k.ready.Load() {
		return 0, nil
	}
	total := 0
	for {
		var next []int64
		if err := s.r.WithContext(ctx).Raw("SELECT next_id FROM " + k.table + "_fill").Scan(&next).Error; err != nil {
			return total, err
		}
		if len(next) == 0 {
			k.ready.Store(true)
			return total, nil
		}
		n := 0
		err := s.tx(ctx, func(db *gorm.DB) error {
			var rows []struct {
				ID   int64
				Text string
			}
			if err := db.Raw(rowsQuery, next[0], gramsFillBatch).Scan(&rows).Error; err != nil {
				return err
			}
			n = len(rows)
			texts := make([]string, n)
			for i, r := range rows {
				texts[i] = fold(r.Text)
			}
			_, want := docGrams(texts)
			if err := addGrams(ctx, db, k, want); err != nil {
				return err
			}
			if n < gramsFillBatch {
				return db.Exec("DELETE FROM " + k.table + "_fill").Error
			}
			return db.Exec("UPDATE "+k.table+"_fill SET next_id = ?", rows[n-1].ID).Error
		})
		total += n
		if err != nil {
			return total, err
		}
	}
}

// gramsReady reports whether k's table holds every indexed document's
// grams (no fill row left).
func (s *Store) gramsReady(ctx context.Context, k *knownGrams) bool {
	if k.ready.Load() {
		return true
	}
	var left bool
	if err := s.r.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM " + k.table + "_fill)").Scan(&left).Error; err != nil || left {
		return false
	}
	k.ready.Store(true)
	return true
}

// inNoDocument reports whether one of grams is in no document indexed in
// k's index (so the index holds no match of a term made of them); false
// when unsure.
func (s *Store) inNoDocument(ctx context.Context, k *knownGrams, grams []string) bool {
	if s.Dialect != SQLite || len(grams) == 0 || !s.gramsReady(ctx, k) {
		return false
	}
	var n int
	if err := s.r.WithContext(ctx).Raw("SELECT count(*) FROM "+k.table+" WHERE gram IN ?", grams).Scan(&n).Error; err != nil {
		return false
	}
	return n < len(grams)
}

// unseen reports whether a gram is in no document of k's index: asked of
// its table of grams only when one is in no sampled text.
func (s *Store) unseen(ctx context.Context, k *knownGrams, grams []string, counts map[string]int) bool {
	for _, g := range grams {
		if counts[g] == 0 {
			return s.inNoDocument(ctx, k, grams)
		}
	}
	return false
}

// The tables' migrations (202612060010_search_grams,
// 202612060020_inbox_key_grams).
func migrateSearchGrams(dialect string, tx *gorm.DB) error {
	return migrateGramsTable(dialect, tx, "202612060010_search_grams", "subscription_search_grams", "subscriptions")
}

func migrateInboxKeyGrams(dialect string, tx *gorm.DB) error {
	return migrateGramsTable(dialect, tx, "202612060020_inbox_key_grams", "inbox_key_search_grams", "inbox_messages")
}

// migrateGramsTable makes a table of grams and its fill row when the
// indexed table (docs) holds rows (SQLite).
func migrateGramsTable(dialect string, tx *gorm.DB, id, table, docs string) error {
	if dialect == Postgres {
		return nil
	}
	for _, stmt := range []string{
		`CREATE TABLE ` + table + ` (id integer PRIMARY KEY, gram text NOT NULL UNIQUE)`,
		`CREATE TABLE ` + table + `_fill (next_id integer NOT NULL)`,
		// The documents indexed so far have their grams added by the fill.
		`INSERT INTO ` + table + `_fill (next_id) SELECT 0 WHERE EXISTS (SELECT 1 FROM ` + docs + `)`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migration %s: %w", id, err)
		}
	}
	return nil
}
