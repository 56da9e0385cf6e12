package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// The subscriptions' text search uses the database's own text index, not a
// scan of every search digest (SearchTextFor):
//
//   - PostgreSQL: a pg_trgm GIN index on subscriptions.search_text, which
//     answers search_text LIKE '%term%' directly (when the extension is
//     available to the database; without it the search scans, as before).
//   - SQLite: an FTS4 table, subscription_search, holding each digest as
//     its sequence of trigrams (and, for CJK text, bigrams), one token per
//     trigram. A term of three or more characters is the phrase of its
//     trigrams: consecutive trigrams overlap, so the phrase matches exactly
//     the digests that contain the term (what LIKE '%term%' matched),
//     without a scan. FTS4 is compiled into every build of the SQLite
//     driver (FTS5 and its trigram tokenizer need a build tag that every
//     go build and go test would have to carry).
//
// Keeping the SQLite index in step: triggers (plain SQL, so any client's
// write is covered) delete a subscription's document when its digest
// changes or the row goes, and queue the row in subscription_search_dirty
// on insert and on a digest change; the store indexes the queue in the
// same transaction (Tx.CreateSubscription, Tx.RefreshSearchText) and at
// start-up (IndexPendingSearch). A search also matches the queued rows by
// LIKE, so a row written behind the store's back is found all the same.

// minGram is the shortest term the index answers; shorter terms scan
// (except two characters of CJK text, which have bigrams).
const minGram = 3

// gramToken encodes a run of runes as one FTS token made of [0-9a-z] only
// (the simple tokenizer keeps it whole): exact, so a match is never a
// collision. Three ASCII runes fit in 21 bits (five base-36 digits); other
// runs use up to 63 bits behind an "x" (fourteen characters).
func gramToken(rs []rune) string {
	ascii := true
	var v uint64
	for _, r := range rs {
		if r >= 0x80 {
			ascii = false
		}
	}
	if ascii && len(rs) == 3 {
		for _, r := range rs {
			v = v<<7 | uint64(r)
		}
		s := strconv.FormatUint(v, 36)
		return strings.Repeat("0", 5-len(s)) + s
	}
	for _, r := range rs {
		v = v<<21 | uint64(r)
	}
	s := strconv.FormatUint(v, 36)
	p := "x"
	if len(rs) == 2 {
		p = "y"
	}
	return p + strings.Repeat("0", 13-len(s)) + s
}

func hasWide(rs []rune) bool {
	for _, r := range rs {
		if r >= 0x80 {
			return true
		}
	}
	return false
}

// searchGrams are the FTS columns of a digest: its trigrams in order, and
// the bigrams that hold a non-ASCII character (two-character Japanese
// names are common search terms).
func searchGrams(text string) (tri, bi string) {
	rs := []rune(text)
	var t, b strings.Builder
	for i := 0; i+minGram <= len(rs); i++ {
		if i > 0 {
			t.WriteByte(' ')
		}
		t.WriteString(gramToken(rs[i : i+minGram]))
	}
	for i := 0; i+2 <= len(rs); i++ {
		if hasWide(rs[i : i+2]) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(gramToken(rs[i : i+2]))
		}
	}
	return t.String(), b.String()
}

// searchMatch is the FTS query for a folded term, or "" when the index
// cannot answer it (too short).
func searchMatch(term string) string {
	rs := []rune(term)
	if len(rs) >= minGram {
		tri, _ := searchGrams(term)
		return `"` + tri + `"` // (FTS4 takes no column filter on a phrase; the tokens of the two columns differ)
	}
	if len(rs) == 2 && hasWide(rs) {
		return gramToken(rs)
	}
	return ""
}

// indexSearch indexes the queued subscriptions (subscription_search_dirty)
// on SQLite, at most limit of them (0: all), or only the queued ones among
// ids when ids are given; it returns how many.
func (t *Tx) indexSearch(limit int, ids ...uint) (int, error) {
	if t.dialect != SQLite {
		return 0, nil
	}
	var rows []struct {
		ID         uint
		SearchText string
	}
	q := t.db.Table("subscription_search_dirty d").Select("d.id, COALESCE(s.search_text, '') AS search_text").
		Joins("LEFT JOIN subscriptions s ON s.id = d.id").Order("d.id")
	if len(ids) > 0 {
		q = q.Where("d.id IN ?", ids)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return 0, err
	}
	for _, r := range rows {
		if err := t.db.Exec("DELETE FROM subscription_search WHERE docid = ?", r.ID).Error; err != nil {
			return 0, err
		}
		if r.SearchText != "" {
			tri, bi := searchGrams(r.SearchText)
			words := searchWords(r.SearchText)
			for i, w := range words {
				words[i] = wordToken(w)
			}
			if err := t.db.Exec("INSERT INTO subscription_search (docid, tri, bi, w) VALUES (?, ?, ?, ?)", r.ID, tri, bi, strings.Join(words, " ")).Error; err != nil {
				return 0, err
			}
		}
		if err := t.db.Exec("DELETE FROM subscription_search_dirty WHERE id = ?", r.ID).Error; err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// IndexPendingSearch indexes every subscription queued for the text index
// (rows written outside the store, a bulk load, an upgrade), in
// transactions of a few thousand rows. It returns how many it indexed.
func (s *Store) IndexPendingSearch(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := s.InTx(ctx, func(tx *Tx) error {
			var err error
			n, err = tx.indexSearch(5000)
			return err
		})
		total += n
		if err != nil || n < 5000 {
			return total, err
		}
	}
}

// searchCondition is the WHERE condition (on subscriptions AS s) for a
// folded search term that is not a marketplace identity.
func (s *Store) searchCondition(ctx context.Context, term string) (string, []any) {
	like := "%" + escapeLike(term) + "%"
	// (CROSS JOIN: SQLite reads the queue, normally empty, first.)
	if s.indexedSearch(term) {
		plan := s.searchPlanFor(ctx, term)
		cond := `s.id IN (SELECT docid FROM subscription_search WHERE subscription_search MATCH ?
				UNION ALL SELECT q.id FROM subscription_search_dirty q CROSS JOIN subscriptions x ON x.id = q.id WHERE x.search_text LIKE ? ESCAPE '\')`
		if plan.verify {
			return cond + ` AND s.search_text LIKE ? ESCAPE '\'`, []any{plan.match, like, like}
		}
		return cond, []any{plan.match, like}
	}
	if s.Dialect == Postgres {
		if part := s.rarePart(ctx, term); part != "" {
			// The trigram index reads the lists of the part's trigrams
			// only; each row found is tested for the whole term (strpos
			// is no operator the index answers, so the planner keeps it a
			// filter). The digest and the term are both folded: strpos
			// finds what LIKE '%term%' finds.
			return `s.search_text LIKE ? ESCAPE '\' AND strpos(s.search_text, ?) > 0`, []any{"%" + escapeLike(part) + "%", term}
		}
	}
	return `s.search_text LIKE ? ESCAPE '\'`, []any{like}
}

// indexedSearch reports whether the term is answered by the text index
// (SQLite; on Postgres the planner chooses the trigram index itself).
func (s *Store) indexedSearch(term string) bool {
	return s.Dialect == SQLite && term != "" && identityColumn(term) == "" && searchMatch(term) != ""
}

// The search index's migration (202612030085_subscription_search).
func migrateSearchIndex(dialect string, tx *gorm.DB) error {
	if dialect == Postgres {
		return migrateSearchPostgres(tx)
	}
	for _, stmt := range []string{
		`CREATE VIRTUAL TABLE subscription_search USING fts4(tri, bi, tokenize=simple)`,
		`CREATE TABLE subscription_search_dirty (id integer PRIMARY KEY)`,
		`CREATE TRIGGER subscriptions_search_insert AFTER INSERT ON subscriptions BEGIN
			INSERT OR IGNORE INTO subscription_search_dirty (id) VALUES (new.id);
		END`,
		`CREATE TRIGGER subscriptions_search_update AFTER UPDATE OF search_text ON subscriptions
			WHEN old.search_text IS NOT new.search_text BEGIN
			DELETE FROM subscription_search WHERE docid = old.id;
			INSERT OR IGNORE INTO subscription_search_dirty (id) VALUES (new.id);
		END`,
		`CREATE TRIGGER subscriptions_search_delete AFTER DELETE ON subscriptions BEGIN
			DELETE FROM subscription_search WHERE docid = old.id;
			DELETE FROM subscription_search_dirty WHERE id = old.id;
		END`,
		`INSERT INTO subscription_search_dirty (id) SELECT id FROM subscriptions`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migration 202612030085_subscription_search: %w", err)
		}
	}
	// The existing rows are queued; migrateSearchWords, which makes the
	// table again with its words, indexes them.
	return nil
}

// The words column's migration (202612040030_search_words): FTS4 adds no
// column to a table, so the table is made again with tri, bi and w (each
// digest's words, see searchWords) and every subscription is indexed
// again, in the migration's transaction.
func migrateSearchWords(dialect string, tx *gorm.DB) error {
	if dialect == Postgres {
		return nil // (pg_trgm's index answers every term)
	}
	for _, stmt := range []string{
		`DROP TABLE subscription_search`,
		`CREATE VIRTUAL TABLE subscription_search USING fts4(tri, bi, w, tokenize=simple)`,
		`INSERT OR IGNORE INTO subscription_search_dirty (id) SELECT id FROM subscriptions`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migration 202612040030_search_words: %w", err)
		}
	}
	_, err := (&Tx{db: tx, dialect: SQLite}).indexSearch(0)
	return err
}

// migrateSearchPostgres creates the trigram index when the pg_trgm
// extension is available to the server (it ships with PostgreSQL's
// contrib). Creating an extension may need privileges the application's
// role lacks: then the migration goes on without the index (the search
// scans, as before) and a database owner can run the two statements later.
func migrateSearchPostgres(tx *gorm.DB) error {
	var avail int64
	if err := tx.Raw(`SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'`).Scan(&avail).Error; err != nil {
		return err
	}
	if avail == 0 {
		return nil
	}
	err := tx.Transaction(func(sp *gorm.DB) error {
		return sp.Exec(`CREATE EXTENSION IF NOT EXISTS pg_trgm`).Error
	})
	if err != nil {
		return nil //nolint:nilerr // no privilege: no index, the search still works
	}
	return tx.Exec(`CREATE INDEX subscriptions_search_trgm ON subscriptions USING gin (search_text gin_trgm_ops)`).Error
}
