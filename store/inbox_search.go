package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// The notification log's search for part of a message's key (q) reads a
// text index, not every message (466 ms at a million messages on SQLite):
//
//   - SQLite: inbox_key_search, an FTS4 table of each key's trigrams and
//     short grams (the subscription search's tokens, searchGrams), folded
//     to lower case. A term of three or more characters is the phrase of
//     its trigrams, which matches the keys that hold it; a shorter one is
//     its short gram. Triggers queue every message
//     written (inbox_key_dirty); IndexPendingInboxKeys indexes the queue
//     (the server every 10 s, and Migrate), and a search also tests the
//     queued rows by LIKE. (Indexing each message as ReceiveInbox stored
//     it took 0.45 ms more of the answer to a webhook call: an FTS4 insert
//     writes a segment of its own.)
//   - Postgres: a pg_trgm index of the keys (migrateInboxKeyTrigrams),
//     which the planner reads for the LIKE; a broad term (below) is asked
//     with strpos, which it does not answer.
//
// Every row found is tested by the LIKE the search always made, so it
// finds what that found. A term with a gram no indexed key holds is
// answered from the queue alone (search_grams.go).
//
// As for the subscriptions (search_plan.go), FTS4 reads the whole list of
// every token a query names: the index is asked for the documents holding
// the term's rarest few trigrams (by a sample of the keys), and a term
// whose every trigram is common (in one key in 20 or more: "event:",
// "a000" of the ids' "-a000-") is broad: the list walks the messages
// newest first testing each with the LIKE, which soon finds a page, and
// counts up to SearchCountCap. At a million messages a search for part of
// one id took 466 ms by the LIKE alone, 2.5 ms by the index; "a000" by the
// phrase of its trigrams, 1.3 s.

// inboxKeyCondition is the WHERE condition of a search for part of a key,
// and whether the term is broad (see above).
func (s *Store) inboxKeyCondition(ctx context.Context, term string) (cond string, args []any, broad bool) {
	like := "%" + escapeLike(term) + "%"
	scan := `dedup_key LIKE ? ESCAPE '\'`
	folded := strings.ToLower(term)
	grams := termGrams(folded)
	short := len([]rune(folded)) < minGram
	counts, docs := s.keyGramCounts(ctx)
	sort.SliceStable(grams, func(i, j int) bool { return counts[grams[i]] < counts[grams[j]] })
	broad = docs > 0 && counts[grams[0]]*20 >= docs
	if s.Dialect == Postgres {
		if short && !broad {
			return pgShortGramIDs("inbox_messages", "dedup_key") + ` AND ` + scan, []any{term, like}, false
		}
		if broad {
			// strpos finds what the LIKE finds (both case-sensitive
			// there) and is no operator the trigram index answers: the
			// planner walks the messages newest first instead of reading
			// every key's entry (13.9 ms at 100,000 for "a000").
			return "strpos(dedup_key, ?) > 0", []any{term}, true
		}
		return scan, []any{like}, false
	}
	if s.unseen(ctx, s.keyKnownGrams, grams, counts) {
		// A gram no indexed key holds (search_grams.go): the queued
		// messages alone can match.
		return `id IN (SELECT k.id FROM inbox_key_dirty k CROSS JOIN inbox_messages x ON x.id = k.id WHERE x.dedup_key LIKE ? ESCAPE '\')`, []any{like}, false
	}
	if broad {
		return scan, []any{like}, true
	}
	// The rarest trigram, and up to two more not much commoner (the
	// subscriptions' rule, searchPlanFor).
	pick := grams[:1]
	for i, g := range grams[1:] {
		if len(pick) == searchRarest || counts[g] > []int{16, 4}[min(i, 1)]*max(counts[grams[0]], 1) {
			break
		}
		pick = append(pick, g)
	}
	// (CROSS JOIN: SQLite reads the queue, normally empty, first.)
	cond = `id IN (SELECT docid FROM inbox_key_search WHERE inbox_key_search MATCH ?
			UNION ALL SELECT k.id FROM inbox_key_dirty k CROSS JOIN inbox_messages x ON x.id = k.id WHERE x.dedup_key LIKE ? ESCAPE '\')
		AND ` + scan
	args = []any{strings.Join(pick, " "), like, like}
	// The messages holding the term, found once: the count and the page
	// then read no index (each would decode the picked grams' document
	// lists again, which grow with the table: 0.4-0.6 ms each at a
	// million messages). More than keyMatchesRead of them, or an error:
	// the condition reads the index itself.
	var ids []uint
	if err := s.r.WithContext(ctx).Raw(`SELECT id FROM inbox_messages WHERE `+cond+` LIMIT ?`, append(args, keyMatchesRead+1)...).
		Scan(&ids).Error; err == nil && len(ids) <= keyMatchesRead {
		if len(ids) == 0 {
			return "0 = 1", nil, false
		}
		return "id IN ?", []any{ids}, false
	}
	return cond, args, false
}

// keyMatchesRead is how many messages a key search finds before the count
// and the page are asked (inboxKeyCondition); a term more of them hold
// is asked of the index by both. (A variable: a test lowers it.)
var keyMatchesRead = 1000

// keyGramCounts counts, in a sample of the messages' keys (folded), the
// keys holding each trigram token; read again every gramSampleAge. On an
// error it returns none (every trigram then looks rare).
func (s *Store) keyGramCounts(ctx context.Context) (map[string]int, int) {
	g := s.keyGrams
	g.mu.Lock()
	defer g.mu.Unlock()
	now := s.Now()
	if g.n != nil && now.Sub(g.at) < gramSampleAge {
		return g.n, g.docs
	}
	keys, err := s.sampleTexts(ctx, "inbox_messages", "dedup_key")
	if err != nil {
		return nil, 0
	}
	counts := map[string]int{}
	for _, k := range keys {
		countGrams(counts, strings.ToLower(k))
	}
	g.n, g.docs, g.at = counts, len(keys), now
	return counts, len(keys)
}

// indexInboxKeys indexes the queued messages (inbox_key_dirty) on SQLite,
// at most limit of them (0: all), their grams listed first in k's table
// (search_grams.go); it returns how many.
func indexInboxKeys(db *gorm.DB, dialect string, limit int, k *knownGrams) (int, error) {
	if dialect != SQLite {
		return 0, nil
	}
	var rows []struct {
		ID       uint
		DedupKey string
	}
	q := db.Table("inbox_key_dirty k").Select("k.id, COALESCE(m.dedup_key, '') AS dedup_key").
		Joins("LEFT JOIN inbox_messages m ON m.id = k.id").Order("k.id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return 0, err
	}
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = strings.ToLower(r.DedupKey)
	}
	docs, grams := docGrams(keys)
	if err := addGrams(db.Statement.Context, db, k, grams); err != nil {
		return 0, err
	}
	for i, r := range rows {
		if err := db.Exec("DELETE FROM inbox_key_search WHERE docid = ?", r.ID).Error; err != nil {
			return 0, err
		}
		if r.DedupKey != "" {
			tri, short := docs[i][0], docs[i][1]
			if err := db.Exec("INSERT INTO inbox_key_search (docid, tri, short) VALUES (?, ?, ?)", r.ID, tri, short).Error; err != nil {
				return 0, err
			}
		}
		if err := db.Exec("DELETE FROM inbox_key_dirty WHERE id = ?", r.ID).Error; err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// IndexPendingInboxKeys indexes every message queued for the key index, in
// transactions of indexBatch. It returns how many it indexed.
func (s *Store) IndexPendingInboxKeys(ctx context.Context) (int, error) {
	return s.drainIndexQueue(ctx, "inbox_key_dirty", func(tx *gorm.DB) (int, error) {
		return indexInboxKeys(tx, s.Dialect, indexBatch, s.keyKnownGrams)
	})
}

// migrateInboxKeySearch (202612050070_inbox_key_search) makes the SQLite
// key index and its triggers, and queues every message for it (Migrate
// indexes them).
func migrateInboxKeySearch(dialect string, tx *gorm.DB) error {
	if dialect != SQLite {
		return nil
	}
	for _, stmt := range []string{
		`CREATE VIRTUAL TABLE inbox_key_search USING fts4(tri, tokenize=simple)`,
		`CREATE TABLE inbox_key_dirty (id integer PRIMARY KEY)`,
		`CREATE TRIGGER inbox_key_insert AFTER INSERT ON inbox_messages BEGIN
			INSERT OR IGNORE INTO inbox_key_dirty (id) VALUES (new.id);
		END`,
		`CREATE TRIGGER inbox_key_update AFTER UPDATE OF dedup_key ON inbox_messages
			WHEN old.dedup_key IS NOT new.dedup_key BEGIN
			DELETE FROM inbox_key_search WHERE docid = old.id;
			INSERT OR IGNORE INTO inbox_key_dirty (id) VALUES (new.id);
		END`,
		`CREATE TRIGGER inbox_key_delete AFTER DELETE ON inbox_messages BEGIN
			DELETE FROM inbox_key_search WHERE docid = old.id;
			DELETE FROM inbox_key_dirty WHERE id = old.id;
		END`,
		`INSERT INTO inbox_key_dirty (id) SELECT id FROM inbox_messages`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migration 202612050070_inbox_key_search: %w", err)
		}
	}
	return nil
}

// migrateShortGrams (202612050080_short_grams): on SQLite it queues every
// subscription and every message to be indexed again with its short grams
// (Migrate indexes them; meanwhile a search tests the queued rows by
// LIKE), the messages' table made again with a column for them (FTS4 adds
// none); on Postgres it makes the short grams' indexes.
func migrateShortGrams(dialect string, tx *gorm.DB) error {
	stmts := []string{
		`INSERT OR IGNORE INTO subscription_search_dirty (id) SELECT id FROM subscriptions`,
		`DROP TABLE inbox_key_search`,
		`CREATE VIRTUAL TABLE inbox_key_search USING fts4(tri, short, tokenize=simple)`,
		`INSERT OR IGNORE INTO inbox_key_dirty (id) SELECT id FROM inbox_messages`,
	}
	if dialect == Postgres {
		// pg_trgm answers no term shorter than a trigram: an index of each
		// text's short grams as an array (GIN), asked whether it holds the
		// term (pgShortGrams). Its characters (string_to_array with no
		// delimiter) and pairs of characters; GIN keeps each element once.
		// (With DISTINCT and a second generate_series in place of
		// string_to_array it took three times as long a row.)
		stmts = []string{
			`CREATE FUNCTION marketgate_short_grams(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
				SELECT string_to_array(t, NULL) || ARRAY(SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) i)
			$$`,
			`CREATE INDEX inbox_key_short ON inbox_messages USING gin (` + pgShortGrams("dedup_key") + `)`,
			`CREATE INDEX subscriptions_search_short ON subscriptions USING gin (` + pgShortGrams("search_text") + `)`,
		}
	}
	for _, stmt := range stmts {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migration 202612050080_short_grams: %w", err)
		}
	}
	return nil
}

// pgShortGrams is the expression of a column's short grams that the
// Postgres indexes hold (as SQLite's shortGrams, of the text as stored:
// LIKE is case-sensitive there).
func pgShortGrams(column string) string { return "marketgate_short_grams(" + column + ")" }

// pgShortGramIDs is the condition that a row of table is one whose column
// holds a short gram (the argument), read from the index into an array of
// ids first: as the index's condition on the row itself, the planner
// (with no statistics of the expression yet, or misjudging a rare pair)
// walked the list's order instead, computing every row's short grams
// (84 ms at 100,000 messages for two characters none holds).
func pgShortGramIDs(table, column string) string {
	return `id = ANY (ARRAY(SELECT g.id FROM ` + table + ` g WHERE ` + pgShortGrams("g."+column) + ` @> ARRAY[?]::text[]))`
}
