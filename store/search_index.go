package store

import (
	"cmp"
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
//     available to the database; without it the search scans, as before),
//     a GIN index of each digest's words for a term that holds a rare
//     whole word or word's start (pgWordQuery, below), and one of its
//     short grams for a term of one or two characters (pgShortGrams).
//   - SQLite: an FTS4 table, subscription_search, holding each digest as
//     its sequence of trigrams, one token per trigram, and its short
//     grams (every character and pair of characters, shortGrams). A term
//     of three or more characters is the phrase of its trigrams:
//     consecutive trigrams overlap, so the phrase matches exactly the
//     digests that contain the term (what LIKE '%term%' matched), without
//     a scan; a shorter term is its short gram's token. FTS4 is compiled into every build of the SQLite
//     driver (FTS5 and its trigram tokenizer need a build tag that every
//     go build and go test would have to carry).
//
// Keeping the SQLite index in step: triggers (plain SQL, so any client's
// write is covered) delete a subscription's document when its digest
// changes or the row goes, and queue the row in subscription_search_dirty
// on insert and on a digest change; the store indexes the queue in the
// same transaction (Tx.CreateSubscription, Tx.RefreshSearchText), and
// serve's search.index job indexes what else is queued (IndexPendingSearch;
// the migrate command does before it exits). A search also matches the
// queued rows by LIKE, so a row written behind the store's back, or one an
// upgrade requeued, is found all the same. A term with a gram that no
// indexed digest holds is answered from the queue alone (search_grams.go).

// minGram is the length of the index's trigrams; a shorter term is asked
// for its short gram (shortGrams).
const minGram = 3

// gramToken encodes a run of one to three runes as one FTS token made of
// [0-9a-z] only (the simple tokenizer keeps it whole): exact, so a match
// is never a collision. ASCII runes take 7 bits each: three are five
// base-36 digits (starting 0 or 1), two "y" and three digits, one "z" and
// two. Other runs use up to 63 bits behind "x" (three runes), "y" (two) or
// "z" (one): fourteen characters. (Every token's text is also stored in
// the FTS table's content: the short grams of ASCII text at fourteen
// characters each took 260 MB more at 100,000 subscriptions and messages.)
func gramToken(rs []rune) string {
	ascii := true
	var v uint64
	for _, r := range rs {
		if r >= 0x80 {
			ascii = false
		}
	}
	prefix := [...]string{"z", "y", ""}[len(rs)-1]
	if ascii {
		for _, r := range rs {
			v = v<<7 | uint64(r)
		}
		s := strconv.FormatUint(v, 36)
		return prefix + strings.Repeat("0", [...]int{2, 3, 5}[len(rs)-1]-len(s)) + s
	}
	for _, r := range rs {
		v = v<<21 | uint64(r)
	}
	s := strconv.FormatUint(v, 36)
	return cmp.Or(prefix, "x") + strings.Repeat("0", 13-len(s)) + s
}

// searchGrams are the FTS columns of a digest: its trigrams in order, and
// its short grams (shortGrams).
func searchGrams(text string) (tri, short string) {
	rs := []rune(text)
	var t strings.Builder
	for i := 0; i+minGram <= len(rs); i++ {
		if i > 0 {
			t.WriteByte(' ')
		}
		t.WriteString(gramToken(rs[i : i+minGram]))
	}
	return t.String(), strings.Join(shortGrams(rs), " ")
}

// shortGrams are the tokens of every character and every two characters
// in a row of a text, each once: a term of one or two characters is the
// one token that the texts holding it hold. (Without them such a term
// read every row: 457 ms at a million messages for two characters no key
// holds.) A common one is read by the broad walks instead, as a common
// trigram is.
func shortGrams(rs []rune) []string {
	seen := map[string]bool{}
	var out []string
	for n := 1; n < minGram; n++ {
		for i := 0; i+n <= len(rs); i++ {
			if g := gramToken(rs[i : i+n]); !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}

// searchMatch is the FTS query for a folded term: the phrase of its
// trigrams, or the token of a shorter one.
func searchMatch(term string) string {
	rs := []rune(term)
	switch {
	case len(rs) >= minGram:
		tri, _ := searchGrams(term)
		return `"` + tri + `"` // (FTS4 takes no column filter on a phrase; the tokens of the two columns differ)
	case len(rs) > 0:
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
	// Each digest's grams are in the table of grams before its document
	// is in the index, even when t is no transaction (search_grams.go).
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = r.SearchText
	}
	docs, grams := docGrams(texts)
	if err := t.addGrams(t.db.Statement.Context, grams); err != nil {
		return 0, err
	}
	for i, r := range rows {
		if err := t.db.Exec("DELETE FROM subscription_search WHERE docid = ?", r.ID).Error; err != nil {
			return 0, err
		}
		if r.SearchText != "" {
			tri, bi := docs[i][0], docs[i][1]
			words := searchWords(r.SearchText)
			for j, w := range words {
				words[j] = wordToken(w)
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
// transactions of indexBatch rows. It returns how many it indexed.
func (s *Store) IndexPendingSearch(ctx context.Context) (int, error) {
	return s.drainIndexQueue(ctx, "subscription_search_dirty", func(tx *gorm.DB) (int, error) {
		return s.wrap(tx).indexSearch(indexBatch)
	})
}

// drainIndexQueue runs step (which indexes up to indexBatch rows of the
// queue table) in transactions until the queue is empty, on SQLite; it
// returns how many rows were indexed. Nearly every round of serve's jobs
// finds the queue empty: a read says so without taking the one writer from
// the usage being ingested.
func (s *Store) drainIndexQueue(ctx context.Context, queue string, step func(*gorm.DB) (int, error)) (int, error) {
	if s.Dialect != SQLite {
		return 0, nil
	}
	var queued bool
	if err := s.r.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM " + queue + ")").Scan(&queued).Error; err != nil || !queued {
		return 0, err
	}
	total := 0
	for {
		var n int
		err := s.tx(ctx, func(tx *gorm.DB) error {
			var err error
			n, err = step(tx)
			return err
		})
		total += n
		if err != nil || n < indexBatch {
			return total, err
		}
	}
}

// indexBatch is how many queued rows one transaction indexes: serve
// indexes in the background while it ingests usage and answers webhooks
// on the same single writer, which each batch holds for about a third of
// a second (0.34 s at 100,000 subscriptions, 0.43 s at a million).
// Batches of 250 made the whole queue take 1.5 times as long.
const indexBatch = 1000

// searchCondition is the WHERE condition (on subscriptions AS s) for a
// folded search term that is not a marketplace identity.
func (s *Store) searchCondition(ctx context.Context, term string) (string, []any) {
	like := "%" + escapeLike(term) + "%"
	// (CROSS JOIN: SQLite reads the queue, normally empty, first.)
	if s.indexedSearch(term) {
		plan := s.searchPlanFor(ctx, term)
		if plan.absent {
			return `s.id IN (SELECT q.id FROM subscription_search_dirty q CROSS JOIN subscriptions x ON x.id = q.id WHERE x.search_text LIKE ? ESCAPE '\')`, []any{like}
		}
		cond := `s.id IN (SELECT docid FROM subscription_search WHERE subscription_search MATCH ?
				UNION ALL SELECT q.id FROM subscription_search_dirty q CROSS JOIN subscriptions x ON x.id = q.id WHERE x.search_text LIKE ? ESCAPE '\')`
		if plan.verify {
			return cond + ` AND s.search_text LIKE ? ESCAPE '\'`, []any{plan.match, like, like}
		}
		return cond, []any{plan.match, like}
	}
	if s.Dialect == Postgres {
		if len([]rune(term)) < minGram {
			// One or two characters: the short grams' index, unless the
			// term is broad (SQLite's rule, searchPlanFor). Then strpos
			// (which finds what the LIKE finds in the folded digest), as
			// no index answers it: the planner walks the list's order,
			// which soon finds a page, instead of reading every digest
			// to sort the matches (91 ms at 100,000).
			if !s.searchPlanFor(ctx, term).broad {
				return "s." + pgShortGramIDs("subscriptions", "search_text"), []any{term}
			}
			return `strpos(s.search_text, ?) > 0`, []any{term}
		}
		if q := s.pgWordQuery(ctx, term); q != "" {
			// The words index reads one word's list (or the lists of the
			// words that start so), once, into an array of ids; each row
			// of those is tested for the whole term, as below. Not the
			// index's condition on s itself: the planner cannot estimate a
			// word's start (it takes one row in 150) and walks the list's
			// order instead, testing every row (64 ms at 100,000
			// subscriptions for one customer's number, 1.2 ms this way).
			return `s.id = ANY (ARRAY(SELECT sw.id FROM subscriptions sw WHERE ` + pgWords("sw.search_text") +
				` @@ ?::tsquery)) AND strpos(s.search_text, ?) > 0`, []any{q, term}
		}
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
		return nil // (202612040040_search_words_postgres)
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
	// (No table of grams yet: its migration has the fill add these.)
	_, err := (&Tx{db: tx, dialect: SQLite}).indexSearch(0)
	return err
}

// migrateSearchPostgres creates the trigram index when the pg_trgm
// extension is available to the server (it ships with PostgreSQL's
// contrib). Creating an extension may need privileges the application's
// role lacks: then the migration goes on without the index (the search
// scans, as before) and a database owner can run the two statements later.
func migrateSearchPostgres(tx *gorm.DB) error {
	ok, err := trigramsOn(tx)
	if !ok || err != nil {
		return err
	}
	return tx.Exec(`CREATE INDEX subscriptions_search_trgm ON subscriptions USING gin (search_text gin_trgm_ops)`).Error
}

// trigramsOn reports whether the pg_trgm extension is installed, installing
// it first when it is available and the role may (see
// migrateSearchPostgres).
func trigramsOn(tx *gorm.DB) (bool, error) {
	var avail int64
	if err := tx.Raw(`SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'`).Scan(&avail).Error; err != nil {
		return false, err
	}
	if avail == 0 {
		return false, nil
	}
	err := tx.Transaction(func(sp *gorm.DB) error {
		return sp.Exec(`CREATE EXTENSION IF NOT EXISTS pg_trgm`).Error
	})
	return err == nil, nil // no privilege: no index, the search still works
}

// migrateInboxKeyTrigrams (Postgres) indexes the inbound messages' keys by
// their trigrams, when pg_trgm is there (trigramsOn): the notification
// log's search for part of a key (dedup_key LIKE '%q%') reads the index
// instead of every message. SQLite still scans.
func migrateInboxKeyTrigrams(dialect string, tx *gorm.DB) error {
	if dialect != Postgres {
		return nil
	}
	ok, err := trigramsOn(tx)
	if !ok || err != nil {
		return err
	}
	return tx.Exec(`CREATE INDEX inbox_key_trgm ON inbox_messages USING gin (dedup_key gin_trgm_ops)`).Error
}

// On PostgreSQL a term's whole word or word's start is asked of an index
// of each digest's words (subscriptions_search_words), as SQLite asks its
// FTS table's words: "customer 0001234" reads the list of the words that
// start "0001234" (one customer's) instead of the trigram lists of a part
// of it, which grow with the table ("01234" is in one digest in 2,000 or
// so, what with account ids and UUIDs).
//
// The index holds each digest's runs of ASCII letters and digits, cut
// after every pgWordMax characters, as lexemes taken verbatim by
// array_to_tsvector (a lexeme holds at most 2,047 bytes, and
// array_to_tsvector stores a longer one cut at its length modulo 2,048;
// a regular expression counts at most 255 repetitions). Not to_tsvector:
// its parser keeps "ann@contoso.com" whole and splits "1e5x" in two, so
// its words are not the digest's.
// A term's word is asked only when it is made of ASCII letters and digits
// alone, of at most pgWordMax characters, and a separator (a character
// that is no letter or digit: isWordRune) comes before it in the term.
// Every digest that holds the term then holds that separator before it,
// so one of the index's runs starts at the word and goes on at least to
// its end (a run starts after a separator; the cuts come every pgWordMax
// characters from a run's start): its first piece starts with the word,
// and is the word when a separator follows it in the term too. So the
// index finds every digest that holds the term, and strpos keeps exactly
// those.
const pgWordMax = 250

// pgWords is the words index's expression over a digest column.
func pgWords(col string) string {
	return `array_to_tsvector(array_remove(regexp_split_to_array(regexp_replace(` + col +
		`, '([0-9a-z]{` + strconv.Itoa(pgWordMax) + `})', '\1 ', 'g'), '[^0-9a-z]+'), ''))`
}

// plainWord reports whether a word of a term may be asked of the words
// index: ASCII letters and digits only, at most pgWordMax of them.
func plainWord(w string) bool {
	if len(w) > pgWordMax {
		return false
	}
	for i := 0; i < len(w); i++ {
		if c := w[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// pgWordQuery is, on PostgreSQL, the tsquery of the term's rarest word
// constraint the words index answers ('0001234':* for a word's start,
// '0001234' for a whole word): when fewer than one sampled digest in 50
// holds it and none of the term's trigrams is rarer. "" otherwise (the
// trigram index is asked, see rarePart).
func (s *Store) pgWordQuery(ctx context.Context, term string) string {
	counts, docs, words := s.gramCounts(ctx)
	if docs == 0 {
		return ""
	}
	w, ok := rarestWord(term, counts, words, plainWord)
	if !ok || w.n*50 >= docs {
		return ""
	}
	for _, g := range distinctGrams(term) {
		if counts[g] < w.n {
			return ""
		}
	}
	q := "'" + w.text + "'"
	if w.prefix {
		q += ":*"
	}
	return q
}

// The Postgres words index's migration (202612040040_search_words_postgres).
func migrateSearchWordsPostgres(dialect string, tx *gorm.DB) error {
	if dialect != Postgres {
		return nil // (SQLite's FTS table holds the words: 202612040030_search_words)
	}
	return tx.Exec(`CREATE INDEX subscriptions_search_words ON subscriptions USING gin ((` + pgWords("search_text") + `))`).Error
}
