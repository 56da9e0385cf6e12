package store

import (
	"context"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// How a text search reads the SQLite index (subscription_search, FTS4).
//
// The phrase of all a term's trigrams is exact, but FTS4 reads the whole
// list of documents of every token of a query, whatever its LIMIT: a term
// that holds a common trigram ("customer 0001234": "cus" is in every
// digest) costs as much as the table, 23 ms at a million subscriptions for
// three matches. So a longer term asks the index for documents holding its
// rarest few trigrams (searchRarest, in any order: a superset of the
// matches, as small as the rarest list) and tests those with the LIKE the
// phrase stands for. How common each trigram is comes from a sample of the
// digests (gramSample), read again every gramSampleAge: it picks which
// lists to read and never decides a match, so a stale one only costs time.
// At a million subscriptions that search takes 12 ms instead of 23.
//
// A term all of whose trigrams are common (one digest in 50 or more in the
// sample) is broad: its count walks the table's rows with the LIKE until
// SearchCountCap + 1 match (about 4,000 rows for a quarter of the table),
// and the list walks the sort's index (see broadSearch).

// searchRarest is how many trigrams a term's index query names at most.
const searchRarest = 3

// gramSampleSize digests make the sample; a table of at most twice as many
// is read whole.
const gramSampleSize = 2000

// gramSampleAge is how long a sample is used.
const gramSampleAge = 10 * time.Minute

// gramSample counts, in a sample of the digests, the digests holding each
// trigram, short gram and word token.
type gramSample struct {
	mu    sync.Mutex
	at    time.Time
	docs  int            // digests sampled
	n     map[string]int // trigram, short gram or word token -> sampled digests holding it
	words []string       // the sampled word tokens, sorted (for prefixes)
}

// searchPlan is how a term is asked of the text index.
type searchPlan struct {
	match  string // the FTS query
	verify bool   // match is a superset: test each document with the LIKE
	broad  bool   // every trigram (and word) is in one sampled digest in 50 or more
	gram   string // the rarest trigram's token (a short term's short gram)
	absent bool   // a gram of the term is in no indexed document: only the queued rows can match
}

// rarest is how many sampled digests hold the plan's rarest trigram.
func (p searchPlan) rarest(counts map[string]int) int { return counts[p.gram] }

// searchPlanFor plans a folded term the index answers (indexedSearch; on
// Postgres only whether a short term is broad is asked of it).
func (s *Store) searchPlanFor(ctx context.Context, term string) searchPlan {
	exact := searchPlan{match: searchMatch(term)}
	grams := distinctGrams(term)
	if rs := []rune(term); len(rs) < minGram {
		// One token, the exact answer (shortGrams): only how common it is
		// is asked of the sample.
		counts, docs, _ := s.gramCounts(ctx)
		exact.gram = exact.match
		exact.broad = docs > 0 && counts[exact.gram]*50 >= docs
		exact.absent = s.unseen(ctx, s.knownGrams, []string{exact.gram}, counts)
		return exact
	}
	if len(grams) == 0 {
		return exact
	}
	counts, docs, words := s.gramCounts(ctx)
	if s.unseen(ctx, s.knownGrams, grams, counts) {
		exact.absent = true
		return exact
	}
	if docs == 0 {
		return exact
	}
	sort.SliceStable(grams, func(i, j int) bool { return counts[grams[i]] < counts[grams[j]] })
	exact.gram = grams[0]
	if w, ok := rarestWord(term, counts, words, nil); ok && w.n <= counts[grams[0]] {
		// A word of the term (or the start of one) is in no more sampled
		// digests than any trigram: its list is read alone. Its documents
		// hold its trigrams too, so it is never the longer list, and a
		// whole word's list does not grow with the table the way a
		// trigram's does ("0001234" is one customer's; "234" is in one
		// digest in 200).
		if w.n*50 < docs {
			return searchPlan{match: w.ftsQuery(), verify: true, gram: grams[0]}
		}
	}
	exact.broad = counts[grams[0]]*50 >= docs
	if exact.broad || len(grams) == 1 {
		// Every list is long: testing the documents found would cost more
		// than the exact phrase's reading of every list.
		return exact
	}
	// The rarest trigram, and up to two more that are not much commoner.
	// Reading a list costs about a tenth of a microsecond a document;
	// testing a document found costs a row read, 2 to 3 µs at a million
	// subscriptions. So the second rarest is read when its list is up to
	// 16 times the rarest's: "customer 0001234" at a million tested 5,369
	// documents in 12.5 ms with one list, 884 in 3.4 ms with two. A third
	// is read only when it is not much commoner still (4 times): the
	// trigrams of one term overlap, so it narrows the documents little
	// more (884 to 664 there, for 66,757 more document ids read: 5.4 ms).
	pick := grams[:1]
	for i, g := range grams[1:] {
		if len(pick) == searchRarest || counts[g] > []int{16, 4}[min(i, 1)]*counts[grams[0]] {
			break
		}
		pick = append(pick, g)
	}
	return searchPlan{match: strings.Join(pick, " "), verify: true, gram: grams[0]}
}

// gramCounts returns the sample's counts and size, reading a new sample
// when the last is older than gramSampleAge. On an error it returns none
// (the phrase of every trigram is then asked).
func (s *Store) gramCounts(ctx context.Context) (map[string]int, int, []string) {
	g := s.grams
	g.mu.Lock()
	defer g.mu.Unlock()
	now := s.Now()
	if g.n != nil && now.Sub(g.at) < gramSampleAge {
		return g.n, g.docs, g.words
	}
	texts, err := s.sampleTexts(ctx, "subscriptions", "search_text")
	if err != nil {
		return nil, 0, nil
	}
	counts := map[string]int{}
	var words []string
	docs := len(texts)
	for _, text := range texts {
		countGrams(counts, text)
		for _, w := range searchWords(text) {
			t := wordToken(w)
			if counts[t] == 0 {
				words = append(words, t)
			}
			counts[t]++
		}
	}
	sort.Strings(words)
	g.n, g.docs, g.words, g.at = counts, docs, words, now
	return counts, docs, words
}

// sampleTexts reads a text column of about gramSampleSize rows of a table,
// picked at random by id (every row of a table of at most twice as many).
func (s *Store) sampleTexts(ctx context.Context, table, column string) ([]string, error) {
	var maxID int64
	if err := s.r.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM " + table).Row().Scan(&maxID); err != nil {
		return nil, err
	}
	q := "SELECT COALESCE(" + column + ", '') FROM " + table
	var args []any
	if maxID > 2*gramSampleSize {
		ids := make([]any, gramSampleSize)
		for i := range ids {
			ids[i] = 1 + rand.Int64N(maxID)
		}
		q += " WHERE id IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
		args = ids
	}
	rows, err := s.r.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var texts []string
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, err
		}
		texts = append(texts, text)
	}
	return texts, rows.Err()
}

// wordPick is a word constraint of a search term: a word of it that every
// digest holding the term holds too, whole or (prefix) as a word's start,
// and how many sampled digests hold it.
type wordPick struct {
	text   string
	prefix bool
	n      int
}

// ftsQuery is the constraint as SQLite's index is asked for it.
func (w wordPick) ftsQuery() string {
	q := "w:" + wordToken(w.text)
	if w.prefix {
		q += "*"
	}
	return q
}

// rarestWord returns the term's word constraint held by the fewest
// sampled digests; false when the term has none (or none that use
// accepts, when use is not nil). A word of the term bounded by separators
// on both sides is a whole word of every digest that holds the term
// (w:wWORD); one bounded only before is the start of one (w:wWORD*, at
// least three characters). The first and last words of a term that
// starts or ends inside a word are neither.
func rarestWord(term string, counts map[string]int, words []string, use func(string) bool) (wordPick, bool) {
	var best wordPick
	found := false
	for _, w := range termWords(term) {
		if !w.start || (!w.end && len([]rune(w.text)) < minGram) || (use != nil && !use(w.text)) {
			continue
		}
		t := wordToken(w.text)
		pick := wordPick{text: w.text, prefix: !w.end, n: counts[t]}
		if pick.prefix {
			// Every sampled word that starts so.
			pick.n = 0
			for i := sort.SearchStrings(words, t); i < len(words) && strings.HasPrefix(words[i], t); i++ {
				pick.n += counts[words[i]]
			}
		}
		if !found || pick.n < best.n {
			best, found = pick, true
		}
	}
	return best, found
}

// countSearch counts the subscriptions a term the index answers matches,
// with no other filter (see countSubscriptions): for a broad term in a
// large table, up to SearchCountCap, or to the end of the page when
// further (pageEnd: offset + limit), by walking the rows with the LIKE
// (capped: more match), reading at most three times the rows the sample
// says hold that many matches, newest first; otherwise, or when the walk
// found fewer, exactly through the index. The queued rows
// (subscription_search_dirty) are counted by LIKE.
func (s *Store) countSearch(ctx context.Context, term string, pageEnd int64, n *int64) (capped bool, matched []uint, err error) {
	plan := s.searchPlanFor(ctx, term)
	like := "%" + escapeLike(term) + "%"
	if plan.broad {
		counts, docs, _ := s.gramCounts(ctx)
		limit := max(SearchCountCap, pageEnd)
		from, walk, err := s.broadCountWalk(ctx, plan.rarest(counts), docs, limit)
		if err != nil {
			return false, nil, err
		}
		if walk {
			var m int64
			if err := s.r.WithContext(ctx).Raw(`SELECT count(*) FROM (SELECT 1 FROM subscriptions WHERE id > ? AND search_text LIKE ? ESCAPE '\' LIMIT ?)`,
				from, like, limit+1).Row().Scan(&m); err != nil {
				return false, nil, err
			}
			if m > limit {
				*n = limit
				return true, nil, nil
			}
		}
	}
	queued := `SELECT q.id FROM subscription_search_dirty q CROSS JOIN subscriptions x ON x.id = q.id WHERE x.search_text LIKE ? ESCAPE '\'`
	if !plan.broad {
		// The matches themselves (not many: the term is not broad), so
		// that the list reads them instead of testing the documents again,
		// or walking its order to test each row against the index's
		// answer (21 ms at a million subscriptions for two characters
		// none holds).
		q := `SELECT docid FROM subscription_search WHERE subscription_search MATCH ? UNION ALL ` + queued
		args := []any{plan.match, like}
		if plan.absent {
			q, args = queued, []any{like}
		} else if plan.verify {
			q = `SELECT x.id FROM subscription_search CROSS JOIN subscriptions x ON x.id = subscription_search.docid
			WHERE subscription_search MATCH ? AND x.search_text LIKE ? ESCAPE '\' UNION ALL ` + queued
			args = []any{plan.match, like, like}
		}
		rows, err := s.r.WithContext(ctx).Raw(q, args...).Rows()
		if err != nil {
			return false, nil, err
		}
		defer rows.Close()
		matched = []uint{}
		for rows.Next() {
			var id uint
			if err := rows.Scan(&id); err != nil {
				return false, nil, err
			}
			matched = append(matched, id)
		}
		*n = int64(len(matched))
		if len(matched) > ListCountCap {
			matched = nil // (the list asks the index again rather than bind so many)
		}
		return false, matched, rows.Err()
	}
	return false, nil, s.r.WithContext(ctx).Raw(`SELECT (SELECT count(*) FROM subscription_search WHERE subscription_search MATCH ?)
		+ (SELECT count(*) FROM (`+queued+`))`, plan.match, like).Row().Scan(n)
}

// countGrams counts a sampled text in counts: once for each of its
// trigrams and short grams.
func countGrams(counts map[string]int, text string) {
	for _, g := range distinctGrams(text) {
		counts[g]++
	}
	for _, g := range shortGrams([]rune(text)) {
		counts[g]++
	}
}

// termGrams are the tokens a term is looked up by: its trigrams, or the
// short gram of a term of one or two characters.
func termGrams(term string) []string {
	if rs := []rune(term); len(rs) < minGram {
		return []string{gramToken(rs)}
	}
	return distinctGrams(term)
}

// distinctGrams are the trigram tokens of a text, each once, in order.
func distinctGrams(text string) []string {
	rs := []rune(text)
	seen := map[string]bool{}
	var out []string
	for i := 0; i+minGram <= len(rs); i++ {
		if g := gramToken(rs[i : i+minGram]); !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// Words of a digest, for the index's w column: the runs of characters the
// FTS simple tokenizer keeps together (ASCII letters and digits, and every
// character past ASCII), so that each word, behind its "w", is one token.
// A search term's words are split the same way (termWords).
func isWordRune(r rune) bool {
	return r >= 0x80 || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

// searchWords are a digest's distinct words, in order.
func searchWords(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !isWordRune(r) }) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// wordToken is a word's token in the w column: "w" and the word. Trigram
// tokens start with 0, 1, x or y, so the two never meet.
func wordToken(w string) string { return "w" + strings.ToLower(w) }

// termWord is a word of a search term, and whether a separator bounds it
// before (start) and after (end) within the term.
type termWord struct {
	text       string
	start, end bool
}

func termWords(term string) []termWord {
	var out []termWord
	rs := []rune(term)
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isWordRune(rs[j]) {
			j++
		}
		out = append(out, termWord{text: string(rs[i:j]), start: i > 0, end: j < len(rs)})
		i = j
	}
	return out
}

// rarePart is, on PostgreSQL, the part of a term the trigram index is
// asked for: its rarest trigram in the sample, widened by a character to
// a neighbouring trigram up to 16 times commoner, at most twice (five
// characters). pg_trgm reads the list of every trigram of the pattern,
// and a term's common ones ("cus" of "customer 0001234" is in every
// digest) cost as much as the table. "" when the whole term is asked (a
// short term, a broad one, no sample).
func (s *Store) rarePart(ctx context.Context, term string) string {
	rs := []rune(term)
	if len(rs) <= minGram {
		return ""
	}
	counts, docs, _ := s.gramCounts(ctx)
	if docs == 0 {
		return ""
	}
	// Only trigrams of ASCII letters and digits: pg_trgm splits a pattern
	// into words at any other character (and, by the database's locale,
	// perhaps at non-ASCII ones), so its trigrams of "r 0" are not the
	// sample's.
	plain := func(i int) bool {
		for _, r := range rs[i : i+minGram] {
			if r >= 0x80 || !isWordRune(r) {
				return false
			}
		}
		return true
	}
	n := func(i int) int { return counts[gramToken(rs[i:i+minGram])] }
	best := -1
	for i := 0; i+minGram <= len(rs); i++ {
		if plain(i) && (best < 0 || n(i) < n(best)) {
			best = i
		}
	}
	if best < 0 || n(best)*50 >= docs {
		return "" // no plain trigram, or a broad one
	}
	lo, hi := best, best // the part's first and last trigram
	for hi-lo < 2 {
		left, right := lo > 0 && plain(lo-1), hi+minGram < len(rs) && plain(hi+1)
		switch {
		case left && (!right || n(lo-1) <= n(hi+1)) && n(lo-1) <= 16*n(best):
			lo--
		case right && n(hi+1) <= 16*n(best):
			hi++
		default:
			return string(rs[lo : hi+minGram])
		}
	}
	return string(rs[lo : hi+minGram])
}

// broadCountWalk reports whether a broad term (its rarest trigram in
// rarest of docs sampled digests) is counted only up to limit, newest
// rows first: when the table holds at least twice the rows that walk
// would read (three times those the sample says hold limit + 1 matches).
// Else the count is cheap, and exact. from is the id the walk starts
// after.
func (s *Store) broadCountWalk(ctx context.Context, rarest, docs int, limit int64) (from int64, walk bool, err error) {
	if rarest <= 0 {
		return 0, false, nil
	}
	var maxID int64
	if err := s.r.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM subscriptions").Row().Scan(&maxID); err != nil {
		return 0, false, err
	}
	span := 3 * (limit + 1) * int64(docs) / int64(rarest)
	return maxID - span, span*2 <= maxID, nil
}

// broadCapOnPostgres reports whether PostgreSQL counts a search's matches
// only up to SearchCountCap (or the page's end), by the rule countSearch
// follows on SQLite: every trigram of the term (a short term: its short
// gram) is in one sampled digest in 50 or more, in a table large enough
// (broadCountWalk). Postgres then
// counts the whole table's matches up to that cap, which costs less than
// the walk, so the walk itself is not needed.
func (s *Store) broadCapOnPostgres(ctx context.Context, term string, pageEnd int64) bool {
	grams := termGrams(term)
	counts, docs, _ := s.gramCounts(ctx)
	if len(grams) == 0 || docs == 0 {
		return false
	}
	rarest := counts[grams[0]]
	for _, g := range grams[1:] {
		rarest = min(rarest, counts[g])
	}
	if rarest*50 < docs {
		return false
	}
	_, walk, err := s.broadCountWalk(ctx, rarest, docs, max(SearchCountCap, pageEnd))
	return err == nil && walk
}
