package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// searchCorpus loads subscriptions whose digests mix ASCII names,
// Japanese company names, identities and punctuation.
func searchCorpus(t *testing.T, st *store.Store) []store.Subscription {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	names := []string{"Contoso Ltd", "株式会社テスト商事", "テスト株式会社", "山田商店", "田中工業 東京支店", "Fabrikam, Inc.",
		"Northwind Traders", "北風トレーダーズ", "100% Pure_Data \\ Co", "ａｂｃ全角", "Ünïcödé GmbH", "o'Reilly & Sons"}
	var subs []store.Subscription
	for i := 0; i < 60; i++ {
		c := &store.Customer{Name: names[i%len(names)], Email: fmt.Sprintf("it%d@c%d.example", i, i%7), CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(c).Error; err != nil {
			t.Fatal(err)
		}
		s := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: now, Name: c.Name + fmt.Sprintf(" 契約 %d", i),
			CustomerID: &c.ID, AzureSubscriptionID: fmt.Sprintf("%08x-0000-4000-a000-%012x", i, i), Version: 1,
			CreatedAt: now.Add(time.Duration(i) * time.Minute), UpdatedAt: now}
		s.SearchText = store.SearchTextFor(&s, c)
		if i%2 == 0 {
			// Half through the store (indexed in its transaction), half
			// written behind its back (queued, then found by LIKE).
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSubscription(&s) }); err != nil {
				t.Fatal(err)
			}
		} else if err := st.TestingDB(t).Omit("Customer", "Offer", "Plan").Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	return subs
}

// likeIDs is what the search matched before the index: every digest that
// contains the folded term.
func likeIDs(subs []store.Subscription, q string) []uint {
	term := store.NormalizeSearch(q)
	var ids []uint
	for _, s := range subs {
		if strings.Contains(s.SearchText, term) {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func searchIDs(t *testing.T, st *store.Store, q string, extra store.SubscriptionFilter) []uint {
	t.Helper()
	f := extra
	f.Q, f.Limit = q, 200
	page, err := st.ListSubscriptions(context.Background(), f)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	var ids []uint
	for _, r := range page.Items {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	if page.Total != int64(len(ids)) {
		t.Fatalf("%q: total %d for %d rows", q, page.Total, len(ids))
	}
	return ids
}

var searchTerms = []string{"contoso", "CONTOSO LTD", "toso", "テスト", "株式会社", "テスト商事", "商事", "山田", "田", "東京支店", "支店 契",
	"northwind", "北風", "風ト", "100%", "_data", "\\ co", "pure_", "ａｂｃ", "ünï", "gmbh", "o'reilly &", "契約 1", "契約 12",
	"it3@c3", ".example", "0000-4000", "nothing like this", "ab", "a", "ltd 契約",
	// Terms with whole words and words' starts (the index's word lists).
	"contoso ltd 契約", "traders 契約 1", "ltd 契約 12", "northwind traders", "gmbh 契約 5", "inc. 契約", "契約 10", "契約 59",
	"0000-4000-a000", "a000-00000000003", "sons 契約 11", "o'reilly & sons", "東京支店 契約 4", "it1@c1.exa", "c1.example"}

// TestSearchIndexMatchesLike: the indexed search finds exactly what the
// LIKE scan found for every term of the corpus, ASCII and Japanese, long
// and short (two CJK characters use bigrams; shorter ASCII terms scan),
// with LIKE's wildcards taken literally, on rows written through the store
// and behind its back; and with the rows queued for the index indexed.
func TestSearchIndexMatchesLike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		subs := searchCorpus(t, st)
		check := func(stage string) {
			for _, q := range searchTerms {
				want, got := likeIDs(subs, q), searchIDs(t, st, q, store.SubscriptionFilter{})
				if !slices.Equal(want, got) {
					t.Errorf("%s: %q: want %v, got %v", stage, q, want, got)
				}
				// With another condition (the count joins the rows).
				want2 := likeIDs(subs[:0:0], q)
				for _, s := range subs {
					if s.CustomerID != nil && *s.CustomerID == *subs[1].CustomerID && strings.Contains(s.SearchText, store.NormalizeSearch(q)) {
						want2 = append(want2, s.ID)
					}
				}
				if got := searchIDs(t, st, q, store.SubscriptionFilter{CustomerID: *subs[1].CustomerID}); !slices.Equal(want2, got) {
					t.Errorf("%s: %q for one customer: want %v, got %v", stage, q, want2, got)
				}
			}
		}
		check("half queued")
		if n, err := st.IndexPendingSearch(context.Background()); err != nil || (st.Dialect == store.SQLite && n != 30) {
			t.Fatalf("indexed %d, %v", n, err)
		}
		check("all indexed")
	})
}

// TestSearchFindsRename: a subscription is found by its new name (and no
// longer by its old one) right after UpdateSubscription renames it, and a
// customer's new name after RefreshSearchText.
func TestSearchFindsRename(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		subs := searchCorpus(t, st)
		if _, err := st.IndexPendingSearch(ctx); err != nil {
			t.Fatal(err)
		}
		target := subs[4]
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.UpdateSubscription(target.ID, 0, map[string]any{"name": "ゼータ研究所 Zeta Labs"})
		}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"ゼータ研究所", "zeta labs", "ゼータ"} {
			if got := searchIDs(t, st, q, store.SubscriptionFilter{}); !slices.Equal(got, []uint{target.ID}) {
				t.Errorf("%q after the rename: %v, want [%d]", q, got, target.ID)
			}
		}
		if got := searchIDs(t, st, target.Name, store.SubscriptionFilter{}); slices.Contains(got, target.ID) {
			t.Errorf("the old name %q still finds it", target.Name)
		}
		if err := st.TestingDB(t).Model(&store.Customer{}).Where("id = ?", *target.CustomerID).Update("name", "Omega 商会").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.RefreshSearchText(target.ID) }); err != nil {
			t.Fatal(err)
		}
		if got := searchIDs(t, st, "omega 商会", store.SubscriptionFilter{}); !slices.Equal(got, []uint{target.ID}) {
			t.Errorf("customer's new name: %v, want [%d]", got, target.ID)
		}
	})
}

// TestKeysetPagingWithConcurrentInserts: paging a list by cursor returns
// every row that existed when paging began exactly once, in order, while
// new rows are inserted between (and during) the pages, in ascending and
// descending sorts of several columns.
func TestKeysetPagingWithConcurrentInserts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		mk := func(i int) store.Subscription {
			s := store.Subscription{Marketplace: []string{"aws", "azure"}[i%2], State: []string{"active", "ended", "pending"}[i%3],
				StateChangedAt: now, Name: fmt.Sprintf("sub %d", i), Quantity: i % 7, Version: 1,
				CreatedAt: now.Add(time.Duration(i%40) * time.Second), UpdatedAt: now.Add(time.Duration(i%13) * time.Hour)}
			s.SearchText = store.SearchTextFor(&s, nil)
			return s
		}
		var seed []store.Subscription
		for i := 0; i < 300; i++ {
			seed = append(seed, mk(i))
		}
		if err := st.BulkCreateSubscriptions(ctx, seed); err != nil {
			t.Fatal(err)
		}
		var before []uint
		if err := st.TestingDB(t).Model(&store.Subscription{}).Order("id").Pluck("id", &before).Error; err != nil {
			t.Fatal(err)
		}
		next := 1000
		for _, sort := range [][]store.SortField{
			{{Field: "created_at", Desc: true}},
			{{Field: "quantity"}, {Field: "updated_at", Desc: true}},
			{{Field: "state"}, {Field: "created_at"}},
		} {
			seen := map[uint]int{}
			f := store.SubscriptionFilter{Sort: sort, Limit: 17}
			var last *store.SubscriptionRow
			for pages := 0; ; pages++ {
				// Writers insert rows between the pages (some sort before
				// the cursor, some after it) and while a page is read.
				var wg sync.WaitGroup
				wg.Add(1)
				go func(n int) {
					defer wg.Done()
					_ = st.BulkCreateSubscriptions(ctx, []store.Subscription{mk(n), mk(n + 1)})
				}(next)
				next += 2
				page, err := st.ListSubscriptions(ctx, f)
				wg.Wait()
				if err != nil {
					t.Fatal(err)
				}
				for i := range page.Items {
					r := &page.Items[i]
					seen[r.ID]++
					if last != nil && !inOrder(sort, &last.Subscription, &r.Subscription) {
						t.Fatalf("%v: %d after %d out of order", sort, r.ID, last.ID)
					}
					last = r
				}
				if page.NextCursor == "" {
					break
				}
				f.Cursor = page.NextCursor
				if pages > 200 {
					t.Fatal("paging does not end")
				}
			}
			for _, id := range before {
				if seen[id] != 1 {
					t.Fatalf("%v: row %d seen %d times", sort, id, seen[id])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("%v: row %d seen %d times", sort, id, n)
				}
			}
		}
	})
}

// inOrder reports whether b may follow a in the sort (ties broken by id).
func inOrder(sort []store.SortField, a, b *store.Subscription) bool {
	for _, sf := range sort {
		c := compareField(sf.Field, a, b)
		if sf.Desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	c := int(a.ID) - int(b.ID)
	if sort[len(sort)-1].Desc {
		c = -c
	}
	return c < 0
}

func compareField(field string, a, b *store.Subscription) int {
	switch field {
	case "created_at":
		return a.CreatedAt.Compare(b.CreatedAt)
	case "updated_at":
		return a.UpdatedAt.Compare(b.UpdatedAt)
	case "quantity":
		return a.Quantity - b.Quantity
	case "state":
		return strings.Compare(a.State, b.State)
	}
	return 0
}

// TestBroadSearchPages: a term most subscriptions match (at least one in
// 50: the list walks the sort's index and tests each row with LIKE) pages
// through exactly the matching rows, newest first, with the index's total,
// also while some rows are still queued for the index.
func TestBroadSearchPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		var subs []store.Subscription
		for i := 0; i < 1300; i++ {
			name := fmt.Sprintf("Northwind Traders %d", i)
			if i%4 == 3 {
				name = fmt.Sprintf("Contoso %d", i)
			}
			s := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Name: name, Version: 1,
				CreatedAt: now.Add(time.Duration(i%97) * time.Minute), UpdatedAt: now}
			s.SearchText = store.SearchTextFor(&s, nil)
			subs = append(subs, s)
		}
		if err := st.TestingDB(t).Omit("Customer", "Offer", "Plan").CreateInBatches(&subs, 200).Error; err != nil {
			t.Fatal(err)
		}
		// All but the last 50 indexed; those stay queued (found by LIKE).
		if _, err := st.IndexPendingSearch(context.Background()); err != nil {
			t.Fatal(err)
		}
		late := make([]store.Subscription, 50)
		for i := range late {
			late[i] = store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Name: fmt.Sprintf("Northwind queued %d", i),
				Version: 1, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
			late[i].SearchText = store.SearchTextFor(&late[i], nil)
		}
		if err := st.TestingDB(t).Omit("Customer", "Offer", "Plan").Create(&late).Error; err != nil {
			t.Fatal(err)
		}
		subs = append(subs, late...)
		want := likeIDs(subs, "northwind")
		var got []uint
		f := store.SubscriptionFilter{Q: "northwind", Limit: 50}
		var last *store.SubscriptionRow
		for pages := 0; ; pages++ {
			page, err := st.ListSubscriptions(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != int64(len(want)) {
				t.Fatalf("page %d: total %d, want %d", pages, page.Total, len(want))
			}
			for i := range page.Items {
				r := &page.Items[i]
				if last != nil && (r.CreatedAt.After(last.CreatedAt) || (r.CreatedAt.Equal(last.CreatedAt) && r.ID > last.ID)) {
					t.Fatalf("page %d: %d (%s) after %d (%s): not newest first", pages, r.ID, r.CreatedAt, last.ID, last.CreatedAt)
				}
				last = r
				got = append(got, r.ID)
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("paged %d rows, want %d", len(got), len(want))
		}
	})
}

// TestListCountStopsAtTheCap: a list counts its matches up to
// ListCountCap (a capped total means more match), or to the end of
// an offset's page when further, so a capped total always means a next
// page; an exact total below the cap; no count with NoTotal; a search of
// more matches than the cap (with another filter) still pages every match.
func TestListCountStopsAtTheCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		n := store.ListCountCap + 60
		subs := make([]store.Subscription, n)
		for i := range subs {
			subs[i] = searchSub(fmt.Sprintf("Northwind %d", i), now.Add(time.Duration(i)*time.Second))
			if i%200 == 0 {
				subs[i] = searchSub(fmt.Sprintf("Contoso %d", i), subs[i].CreatedAt)
				subs[i].State = "ended"
			}
		}
		storeIndexed(t, st, subs)
		for _, c := range []struct {
			name   string
			f      store.SubscriptionFilter
			total  int64
			capped bool
			items  int
		}{
			{"every row: the cap", store.SubscriptionFilter{Limit: 50}, store.ListCountCap, true, 50},
			{"a filter under the cap: exact", store.SubscriptionFilter{States: []string{"ended"}, Limit: 50}, int64((n + 199) / 200), false, 50},
			{"an offset's page ends past the cap: counted to its end", store.SubscriptionFilter{Limit: 50, Offset: 9990},
				10040, true, 50},
			{"the last page: exact", store.SubscriptionFilter{Limit: 50, Offset: n - 20}, int64(n), false, 20},
			{"no total", store.SubscriptionFilter{Limit: 50, NoTotal: true}, 0, false, 50},
		} {
			page, err := st.ListSubscriptions(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if page.Total != c.total || page.TotalCapped != c.capped || len(page.Items) != c.items {
				t.Errorf("%s: total %d capped %v with %d rows, want %d %v with %d", c.name, page.Total, page.TotalCapped, len(page.Items), c.total, c.capped, c.items)
			}
		}
		// A search with another filter, matching more than the cap: every
		// match, newest first, each once.
		want := map[string]bool{} // (names are unique)
		for i := range subs {
			if subs[i].State == "active" {
				want[subs[i].Name] = true
			}
		}
		f := store.SubscriptionFilter{Q: "northwind", States: []string{"active"}, Limit: 200}
		seen := 0
		var last time.Time
		for {
			page, err := st.ListSubscriptions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if f.Cursor == "" && (page.Total != store.ListCountCap || !page.TotalCapped) {
				t.Fatalf("search: total %d capped %v, want the cap", page.Total, page.TotalCapped)
			}
			for _, r := range page.Items {
				if !want[r.Name] {
					t.Fatalf("search: %d (%s) twice or not a match", r.ID, r.Name)
				}
				if !last.IsZero() && r.CreatedAt.After(last) {
					t.Fatalf("search: %d not newest first", r.ID)
				}
				last = r.CreatedAt
				delete(want, r.Name)
				seen++
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		if len(want) != 0 {
			t.Fatalf("search: %d matches never listed (%d listed)", len(want), seen)
		}
	})
}

// TestSearchAsksTheRarestTrigrams: a term that holds common trigrams is
// asked of the index by its rarest ones, and each document found is tested
// with the term itself: a digest that holds those trigrams elsewhere, not
// the term, is neither counted nor listed (it is when the test is left out).
func TestSearchAsksTheRarestTrigrams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		findsAmongCustomers(t, st, []string{
			"Customer 12345",       // the match
			"Customer 2345 r 123",  // "r 1", " 12", "123", "234", "345" but not "customer 12345"
			"Customer 12345 again", // a match
		}, "Customer 12345", []string{"Customer 12345", "Customer 12345 again"})
	})
}

// TestRareTermTakesWildcardsLiterally: a term whose rare part the index
// is asked for (SQLite: its rarest trigrams; PostgreSQL: a run of its
// letters and digits, the whole term tested by strpos) finds exactly the
// digests holding the term, "%" and "_" taken as themselves.
func TestRareTermTakesWildcardsLiterally(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		findsAmongCustomers(t, st, []string{"Pure_Data 98765% off", "PureXData 98765X off", "Pure_Data 98765 off", "pure_data 98765%"},
			"Pure_Data 98765%", []string{"Pure_Data 98765% off", "pure_data 98765%"})
	})
}

// findsAmongCustomers stores 300 subscriptions named "Customer A<n>"
// ("customer " in every digest) and then names, and checks that a search
// for q finds exactly the subscriptions named want, with that total.
func findsAmongCustomers(t *testing.T, st *store.Store, names []string, q string, want []string) {
	t.Helper()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var subs []store.Subscription
	add := func(name string) { subs = append(subs, searchSub(name, now.Add(time.Duration(len(subs))*time.Second))) }
	for i := 0; i < 300; i++ {
		add(fmt.Sprintf("Customer A%d", i))
	}
	for _, name := range names {
		add(name)
	}
	storeIndexed(t, st, subs)
	page, err := st.ListSubscriptions(context.Background(), store.SubscriptionFilter{Q: q, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Items {
		got = append(got, r.Name)
	}
	slices.Sort(got)
	if page.Total != int64(len(want)) || !slices.Equal(got, want) {
		t.Fatalf("%q: total %d, %q; want %d, %q", q, page.Total, got, len(want), want)
	}
}

// TestBroadSearchCountStopsAtTheCap: a term most digests hold, in a table
// large enough, is counted by walking the rows up to the search's cap
// (capped: more match), or to the end of a page past it; a rare one in the
// same table is counted exactly. On SQLite and PostgreSQL alike.
func TestBroadSearchCountStopsAtTheCap(t *testing.T) {
	storetest.Each(t, broadSearchCountStopsAtTheCap)
}

func broadSearchCountStopsAtTheCap(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	n := 20000 // (the walk reads at most 3 × (1,000 + 1) rows for a term every digest holds, when the table has twice as many; 3 × 1,551 for the page at 1,500)
	subs := make([]store.Subscription, n)
	for i := range subs {
		name := fmt.Sprintf("Northwind %d", i)
		if i%1000 == 0 {
			name = fmt.Sprintf("Northwind rare %d", i)
		}
		subs[i] = searchSub(name, now.Add(time.Duration(i)*time.Second))
	}
	storeIndexed(t, st, subs)
	for _, c := range []struct {
		q      string
		offset int
		total  int64
		capped bool
	}{{"northwind", 0, store.SearchCountCap, true}, {"northwind", 1500, 1550, true}, {"northwind rare", 0, int64(n / 1000), false}} {
		page, err := st.ListSubscriptions(ctx, store.SubscriptionFilter{Q: c.q, Limit: 50, Offset: c.offset})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != c.total || page.TotalCapped != c.capped || len(page.Items) != min(50, int(c.total)) {
			t.Errorf("%q at %d: total %d capped %v, %d rows; want %d %v", c.q, c.offset, page.Total, page.TotalCapped, len(page.Items), c.total, c.capped)
		}
	}
}

// searchSub is an active AWS subscription named name, created at, with
// its search digest.
func searchSub(name string, at time.Time) store.Subscription {
	s := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: at, Name: name, Version: 1, CreatedAt: at, UpdatedAt: at}
	s.SearchText = store.SearchTextFor(&s, nil)
	return s
}

// storeIndexed stores subscriptions in bulk and indexes them for search.
func storeIndexed(t *testing.T, st *store.Store, subs []store.Subscription) {
	t.Helper()
	ctx := context.Background()
	if err := st.BulkCreateSubscriptions(ctx, subs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.IndexPendingSearch(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSearchWordsAreASuperset: a term with a whole word or a word's start
// (a separator before it in the term) finds exactly the digests that hold
// the term, when the word index is asked for that word (PostgreSQL: the
// GIN index of each digest's runs of ASCII letters and digits; SQLite:
// the FTS table's words). The digests mix what a text parser splits its
// own way: e-mails, host names, "1e5x", hyphens, underscores, percent
// signs, accented and Japanese letters next to ASCII ones, and runs of
// 249 to 2,500 letters and digits (the Postgres index cuts a run every
// 250 characters; a lexeme holds at most 2,047 bytes).
func TestSearchWordsAreASuperset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rnd := rand.New(rand.NewPCG(18, 4))
		const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
		run := func(n int) string {
			b := make([]byte, n)
			for i := range b {
				b[i] = alnum[rnd.IntN(len(alnum))]
			}
			return string(b)
		}
		seps := []string{" ", "-", "@", ".", ":", "/", "_", "%", "é", "株", " · ", "e5"}
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		var subs []store.Subscription
		for i := 0; i < 400; i++ {
			var b strings.Builder
			for w := 0; w < 3+rnd.IntN(6); w++ {
				b.WriteString(seps[rnd.IntN(len(seps))])
				switch n := rnd.IntN(40); {
				case n == 0:
					b.WriteString(run([]int{249, 250, 251, 500, 2047, 2500}[rnd.IntN(6)]))
				case n < 4:
					b.WriteString("1e" + run(1+rnd.IntN(3)))
				default:
					b.WriteString(run(1 + rnd.IntN(12)))
				}
			}
			subs = append(subs, searchSub(b.String(), now.Add(time.Duration(i)*time.Second)))
		}
		storeIndexed(t, st, subs)
		subs = nil
		if err := st.TestingReadDB(t).Order("id").Find(&subs).Error; err != nil || len(subs) != 400 {
			t.Fatal(len(subs), err)
		}
		// Terms that start at a separator, or a character or two before
		// one, and end inside the next word, at its end or further on.
		var terms []string
		for _, s := range subs {
			d := []rune(s.SearchText)
			for i := 1; i < len(d) && len(terms) < 1500; i++ {
				if isAlnum(d[i-1]) || !isAlnum(d[i]) || rnd.IntN(3) > 0 {
					continue
				}
				from := max(0, i-1-rnd.IntN(3))
				to := i + 3 + rnd.IntN(12)
				if rnd.IntN(8) == 0 {
					to = i + []int{249, 250, 251, 500, 501}[rnd.IntN(5)] // the long runs' cuts
				}
				terms = append(terms, string(d[from:min(to, len(d))]))
			}
		}
		byWords := 0
		for _, q := range terms {
			cond, args := st.TestingSearchCondition(t, q)
			if strings.Contains(cond, "array_to_tsvector") || (len(args) > 0 && strings.HasPrefix(fmt.Sprint(args[0]), "w:")) {
				byWords++
			}
			want := likeIDs(subs, q)
			if len(want) >= 200 {
				continue // (more than a page: the broad terms' tests)
			}
			if got := searchIDs(t, st, q, store.SubscriptionFilter{}); !slices.Equal(want, got) {
				t.Fatalf("%q (%s %q): want %v, got %v", q, cond, args, want, got)
			}
		}
		// Most terms hold a word few digests share: the word index answers
		// them (the rest ask for trigrams).
		if byWords < len(terms)/2 {
			t.Fatalf("the word index answered %d of %d terms", byWords, len(terms))
		}
		t.Logf("%d terms, %d by the word index", len(terms), byWords)
	})
}

func isAlnum(r rune) bool { return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') }
