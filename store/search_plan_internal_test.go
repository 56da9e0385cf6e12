package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSearchReadsAWordsList: a term holding a whole word, or a word's
// start, that fewer digests hold than any of its trigrams asks the index
// for that word's list (one customer's number among thousands of digests
// that share every trigram of it), and still finds exactly what LIKE
// finds; a term whose words are all cut (inside a word at both ends) or
// common asks for trigrams as before.
func TestSearchReadsAWordsList(t *testing.T) {
	ctx := context.Background()
	st := openMigrated(t)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var subs []Subscription
	for i := 0; i < 3000; i++ {
		// Numbers of seven digits: "000", "001", "012" and "123" are each
		// in many digests, the number itself in one.
		s := Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Name: fmt.Sprintf("Customer %07d Contoso", i*37), Version: 1, CreatedAt: now, UpdatedAt: now}
		s.SearchText = SearchTextFor(&s, nil)
		subs = append(subs, s)
	}
	if err := st.BulkCreateSubscriptions(ctx, subs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.IndexPendingSearch(ctx); err != nil {
		t.Fatal(err)
	}
	subs = nil
	if err := st.r.Order("id").Find(&subs).Error; err != nil || len(subs) != 3000 {
		t.Fatal(len(subs), err)
	}
	for _, c := range []struct {
		term, word string // word: the word constraint asked ("" for trigrams)
	}{
		{"customer 0045621", "w:w0045621*"},    // a word's start (it may go on)
		{"customer 00456 contoso", "w:w00456"}, // a whole word (no such number: nothing found)
		{"customer 0045621 contoso", "w:w0045621"},
		{"ustomer 004562", "w:w004562*"},
		{"0045621", ""},         // inside a word at both ends
		{"tomer 00", ""},        // the start is too short to ask for
		{"customer con", ""},    // every word common
		{"customer 01", ""},     // the start is too short to ask for
		{"contoso", ""},         // one word, its ends cut
		{"0045621 contoso", ""}, // the number cut at its start, a common word's start
	} {
		term := NormalizeSearch(c.term)
		p := st.searchPlanFor(ctx, term)
		word := "" // the word constraint asked: the whole match when one is
		if strings.HasPrefix(p.match, "w:") {
			word = p.match
		}
		if word != c.word {
			t.Errorf("%q: asked %q (match %q), want the word %q", c.term, word, p.match, c.word)
		}
		var want []uint
		for _, s := range subs {
			if strings.Contains(s.SearchText, term) {
				want = append(want, s.ID)
			}
		}
		got, total := searchPage(t, st, c.term, 500)
		// (A page of at most 500, all of them matches.)
		inWant := len(got) == min(len(want), 500)
		for _, id := range got {
			_, found := slices.BinarySearch(want, id)
			inWant = inWant && found
		}
		if !inWant || total != int64(len(want)) {
			t.Errorf("%q: found %d (total %d), LIKE finds %d: %v, %v", c.term, len(got), total, len(want), got[:min(len(got), 5)], want[:min(len(want), 5)])
		}
	}
}

// searchPage lists the first page of a search (limit rows at most): the
// ids found, sorted, and the total.
func searchPage(t *testing.T, st *Store, term string, limit int) ([]uint, int64) {
	t.Helper()
	page, err := st.ListSubscriptions(context.Background(), SubscriptionFilter{Q: term, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint
	for _, r := range page.Items {
		got = append(got, r.ID)
	}
	slices.Sort(got)
	return got, page.Total
}

// TestPostgresAsksTheRarePart: on PostgreSQL the trigram index is asked
// for the term's rarest run of ASCII letters and digits (its rarest
// trigram, widened to neighbours up to 16 times commoner, at most five
// characters); nothing narrower when every such trigram is common or
// there is none.
func TestPostgresAsksTheRarePart(t *testing.T) {
	st := openMigrated(t)
	counts := map[string]int{}
	set := func(g string, n int) { counts[gramToken([]rune(g))] = n }
	for _, g := range []string{"cus", "ust", "sto", "tom", "ome", "mer", "er ", "r 0", " 00", "con", "ont", "nto", "tos", "oso"} {
		set(g, 1000)
	}
	set("000", 600)
	set("001", 300)
	set("012", 123)
	set("123", 21)
	set("234", 5)
	set("r 0", 1) // rare, but pg_trgm does not see "r 0"
	set("x12", 2)
	set("0x1", 3)
	set("abc", 1)
	set("bcd", 2)
	set("cde", 3)
	set("def", 4)
	st.grams.n, st.grams.docs, st.grams.at = counts, 1000, st.Now()
	for term, want := range map[string]string{
		"customer 0001234": "1234",  // "123" widens it, "012" is too common
		"contoso":          "",      // broad
		"a b c d":          "",      // no trigram of letters and digits
		"r 0x12":           "0x12",  // "x12", then its neighbour "0x1"
		"abcdef":           "abcde", // five characters at most
		"ab":               "",      // too short
	} {
		if got := st.rarePart(context.Background(), term); got != want {
			t.Errorf("%q: part %q, want %q", term, got, want)
		}
	}
}

// TestGramTokensNeverCollide: every run of one, two or three characters
// (ASCII and not) has a token of its own, made only of what the FTS simple
// tokenizer keeps in one token: a match of a token is a match of the run.
func TestGramTokensNeverCollide(t *testing.T) {
	var runs [][]rune
	for a := rune(1); a < 0x80; a++ {
		runs = append(runs, []rune{a})
		for b := rune(1); b < 0x80; b++ {
			runs = append(runs, []rune{a, b})
		}
	}
	some := []rune("aZ09 -_%@.:/ü田東ａ😀\u007f\u0080")
	for _, a := range some {
		runs = append(runs, []rune{a})
		for _, b := range some {
			runs = append(runs, []rune{a, b})
			for _, c := range some {
				runs = append(runs, []rune{a, b, c})
			}
		}
	}
	runs = append(runs, [][]rune{{0x7f, 0x7f, 0x7f}, {1, 1, 1}, {0x10FFFF, 0x10FFFF, 0x10FFFF}, {0x10FFFF}, {0x10FFFF, 1}}...)
	seen := map[string][]rune{}
	for _, r := range runs {
		tok := gramToken(r)
		for _, c := range tok {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
				t.Fatalf("%q: token %q holds %q", string(r), tok, c)
			}
		}
		if o, ok := seen[tok]; ok && string(o) != string(r) {
			t.Fatalf("%q and %q share the token %q", string(o), string(r), tok)
		}
		seen[tok] = r
	}
}
