package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTermsNoDocumentHolds: on SQLite a term with a gram (trigram, or the
// short gram of a term of one or two characters) that no indexed digest
// holds is answered from the queued rows alone, without the text index,
// and every search still finds exactly what LIKE finds: after a
// subscription with new grams is written through the store, after a
// transaction that wrote one rolled back, for a row written behind the
// store's back (queued), and on a database indexed before the table of
// grams existed, both before and after the fill has listed its grams.
func TestTermsNoDocumentHolds(t *testing.T) {
	defer func(n int) { gramsFillBatch = n }(gramsFillBatch)
	gramsFillBatch = 700 // (several batches of the fill below)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	names := []string{"Contoso Ltd", "株式会社テスト商事", "Northwind Traders", "Fabrikam, Inc.", "山田商店", "Ünïcödé GmbH"}
	mk := func(name string) Subscription {
		s := Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Name: name, Version: 1, CreatedAt: now, UpdatedAt: now}
		s.SearchText = SearchTextFor(&s, nil)
		return s
	}
	var seed []Subscription
	for i := 0; i < 2000; i++ {
		seed = append(seed, mk(fmt.Sprintf("%s %04d", names[i%len(names)], i)))
	}
	if err := st.BulkCreateSubscriptions(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if _, err := st.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	create := func(name string) {
		t.Helper()
		s := mk(name)
		if err := st.InTx(ctx, func(tx *Tx) error { return tx.CreateSubscription(&s) }); err != nil {
			t.Fatal(err)
		}
	}
	// check searches each term: the same ids as LIKE over every digest,
	// and, when absent is given, whether the plan skips the index.
	check := func(stage string, absent map[string]bool) {
		t.Helper()
		var all []Subscription
		if err := st.r.Order("id").Find(&all).Error; err != nil {
			t.Fatal(err)
		}
		for term, skip := range absent {
			folded := NormalizeSearch(term)
			if p := st.searchPlanFor(ctx, folded); p.absent != skip {
				t.Errorf("%s: %q: plan skips the index: %v, want %v", stage, term, p.absent, skip)
			}
			var want []uint
			for _, s := range all {
				if strings.Contains(s.SearchText, folded) {
					want = append(want, s.ID)
				}
			}
			got, total := searchPage(t, st, term, 100)
			if len(want) > 100 { // (a common term: the count, and a full page)
				if total != int64(len(want)) || len(got) != 100 {
					t.Errorf("%s: %q: found %d (total %d), LIKE finds %d", stage, term, len(got), total, len(want))
				}
				continue
			}
			if !slices.Equal(got, want) || total != int64(len(want)) {
				t.Errorf("%s: %q: found %v (total %d), LIKE finds %v", stage, term, got, total, want)
			}
		}
	}
	check("indexed", map[string]bool{
		"qz": true, "zqx": true, "contoso qz": true, "北風": true, // a gram none holds
		"co": false, "テスト": false, "contoso ltd 0006": false, "ltd 0007": false, "0001": false,
		"contoso ltd 0001": false, // every gram held, the term by no digest: the index answers none
	})

	// A subscription written through the store: its grams are listed in
	// its transaction.
	create("Qzar 北風 Labs")
	check("a new subscription", map[string]bool{"qz": false, "北風": false, "qzar": false, "zqx": true})

	// A transaction that rolls back leaves none of its grams listed; the
	// same gram written afterwards is found.
	boom := errors.New("boom")
	if err := st.InTx(ctx, func(tx *Tx) error {
		s := mk("Wyvern Kjøkken")
		if err := tx.CreateSubscription(&s); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	check("rolled back", map[string]bool{"wyv": true, "kjø": true})
	create("Wyvern Two")
	check("written after the rollback", map[string]bool{"wyv": false, "kjø": true})

	// Behind the store's back: queued, found by LIKE until indexed.
	back := mk("Xylo Jupe")
	if err := st.w.Omit("Customer", "Offer", "Plan").Create(&back).Error; err != nil {
		t.Fatal(err)
	}
	check("queued", map[string]bool{"xylo": true, "jupe": true})
	if n, err := st.IndexPendingSearch(ctx); err != nil || n != 1 {
		t.Fatalf("indexed %d, %v", n, err)
	}
	check("queued, then indexed", map[string]bool{"xylo": false, "jupe": false})

	// A database indexed before the table of grams: the migration leaves
	// the fill to do, and a process that has not seen it done asks the
	// index for every term, as before.
	for _, stmt := range []string{"DELETE FROM subscription_search_grams", "INSERT INTO subscription_search_grams_fill (next_id) VALUES (0)"} {
		if err := st.w.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	st.knownGrams = newKnownGrams("subscription_search_grams", st.r)
	before := map[string]bool{"qz": false, "zqx": false, "co": false, "xylo": false, "ltd 0007": false}
	check("before the fill", before)
	create("Mørk Zqxy") // (indexed meanwhile: its grams are listed at once)
	check("before the fill, a new subscription", before)
	n, err := st.FillSearchGrams(ctx)
	if err != nil || n != 2004 {
		t.Fatalf("the fill read %d subscriptions, %v", n, err)
	}
	var left int
	if err := st.r.Raw("SELECT count(*) FROM subscription_search_grams_fill").Scan(&left).Error; err != nil || left != 0 {
		t.Fatalf("fill rows left: %d, %v", left, err)
	}
	check("after the fill", map[string]bool{"qz": false, "zqx": false, "mørk": false, "wyv": false, "kjø": true, "jq": true, "co": false, "ltd 0007": false})
	// Another process (its own memory of the table) finds the same.
	other, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if p := other.searchPlanFor(ctx, "jq"); !p.absent {
		t.Error("another process asks the index for a term none holds")
	}
}

// TestKeysNoMessageHolds: the same of the notification log's search for
// part of a message's key (the key index and its own table of grams).
func TestKeysNoMessageHolds(t *testing.T) {
	ctx := context.Background()
	st := openMigrated(t)
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	receive := func(key string) {
		t.Helper()
		if _, _, err := st.ReceiveInbox(ctx, &InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: key, Body: "{}", ReceivedAt: at}); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second)
	}
	for i := 0; i < 1500; i++ {
		receive(fmt.Sprintf("event:%04d-%x", i, i*7919))
	}
	if _, err := st.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(stage string, absent map[string]bool) {
		t.Helper()
		var keys []string
		if err := st.r.Model(&InboxMessage{}).Order("id").Pluck("dedup_key", &keys).Error; err != nil {
			t.Fatal(err)
		}
		for term, skip := range absent {
			cond, _, _ := st.inboxKeyCondition(ctx, term)
			if got := strings.Contains(cond, "inbox_key_dirty") && !strings.Contains(cond, "MATCH"); got != skip {
				t.Errorf("%s: %q: the queue alone asked: %v, want %v (%s)", stage, term, got, skip, cond)
			}
			want := 0
			for _, k := range keys {
				if strings.Contains(strings.ToLower(k), strings.ToLower(term)) { // (ASCII keys: LIKE's folding)
					want++
				}
			}
			page, err := st.ListInbox(ctx, InboxFilter{Q: term, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != int64(want) && !(page.TotalCapped && int64(want) >= page.Total) {
				t.Errorf("%s: %q: total %d (capped %v), LIKE finds %d", stage, term, page.Total, page.TotalCapped, want)
			}
		}
	}
	check("indexed", map[string]bool{"zq": true, "event:zq": true, "q": true, "0123-": false, "ev": false, "-1f": false})
	// The messages found before the count and the page, or (more than
	// keyMatchesRead of them) the index asked by both: the same answer.
	for _, term := range []string{"0123-", "-1f", "1f", "event:01", "nothing"} {
		found, err := st.ListInbox(ctx, InboxFilter{Q: term, Limit: 5, Offset: 1})
		if err != nil {
			t.Fatal(err)
		}
		keyMatchesRead = 1
		asked, err := st.ListInbox(ctx, InboxFilter{Q: term, Limit: 5, Offset: 1})
		keyMatchesRead = 1000
		if err != nil {
			t.Fatal(err)
		}
		if found.Total != asked.Total || !slices.Equal(messageIDs(found.Items), messageIDs(asked.Items)) {
			t.Errorf("%q: found first: %d %v; asked of the index: %d %v", term, found.Total, messageIDs(found.Items), asked.Total, messageIDs(asked.Items))
		}
	}
	receive("event:ZQ-1500")
	check("queued", map[string]bool{"zq": true, "event:zq": true})
	if n, err := st.IndexPendingInboxKeys(ctx); err != nil || n != 1 {
		t.Fatalf("indexed %d, %v", n, err)
	}
	check("indexed again", map[string]bool{"zq": false, "event:zq": false, "q": false, "j": true})

	// Indexed before the table of grams: asked of the index until the
	// fill has listed every key's grams.
	for _, stmt := range []string{"DELETE FROM inbox_key_search_grams", "INSERT INTO inbox_key_search_grams_fill (next_id) VALUES (0)"} {
		if err := st.w.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	st.keyKnownGrams = newKnownGrams("inbox_key_search_grams", st.r)
	check("before the fill", map[string]bool{"q": false, "zq": false, "ev": false})
	if n, err := st.FillInboxKeyGrams(ctx); err != nil || n != 1501 {
		t.Fatalf("the fill read %d messages, %v", n, err)
	}
	check("after the fill", map[string]bool{"j": true, "zq": false, "xz": true, "ev": false, "q": false})
}

func messageIDs(ms []InboxMessage) []uint {
	ids := make([]uint, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// A key search narrowed by the log's other filters (marketplace, status,
// source, a receipt time range) answers the messages that hold the term
// and pass every filter, whether the messages holding the term were found
// first (up to keyMatchesRead) or the index is asked by the count and the
// page: the found messages are the term's in the whole log, and the
// filters still apply to them.
func TestKeySearchWithFilters(t *testing.T) {
	ctx := context.Background()
	st := openMigrated(t)
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	type msg struct {
		id                       uint
		key, marketplace, source string
		failed                   bool
		received                 time.Time
	}
	var all []msg
	for i := 0; i < 900; i++ {
		m := msg{key: fmt.Sprintf("event:%04d-%x", i, i*7919), marketplace: "aws", source: "aws_sqs", received: at.Add(time.Duration(i) * time.Minute)}
		if i%3 == 0 {
			m.marketplace, m.source = "azure", "azure_webhook"
		}
		im := &InboxMessage{Marketplace: m.marketplace, Source: m.source, DedupKey: m.key, Body: "{}", ReceivedAt: m.received}
		if _, _, err := st.ReceiveInbox(ctx, im); err != nil {
			t.Fatal(err)
		}
		m.id = im.ID
		if i%4 == 1 {
			m.failed = true
			if err := st.w.Exec("UPDATE inbox_messages SET status = ? WHERE id = ?", InboxFailed, im.ID).Error; err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, m)
	}
	if _, err := st.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	from, to := at.Add(200*time.Minute), at.Add(700*time.Minute)
	filters := []struct {
		name string
		f    InboxFilter
		pass func(msg) bool
	}{
		{"Microsoft's", InboxFilter{Marketplace: "azure"}, func(m msg) bool { return m.marketplace == "azure" }},
		{"failed", InboxFilter{Status: InboxFailed}, func(m msg) bool { return m.failed }},
		{"AWS's failed", InboxFilter{Marketplace: "aws", Status: InboxFailed}, func(m msg) bool { return m.marketplace == "aws" && m.failed }},
		{"from SQS", InboxFilter{Source: "aws_sqs"}, func(m msg) bool { return m.source == "aws_sqs" }},
		{"received in a range", InboxFilter{From: from, To: to}, func(m msg) bool { return !m.received.Before(from) && m.received.Before(to) }},
	}
	for _, term := range []string{"0123-", "-1f", "1f", "event:01", "nothing"} {
		for _, fl := range filters {
			var want []uint // newest first, as the log lists
			for i := len(all) - 1; i >= 0; i-- {
				if m := all[i]; strings.Contains(m.key, term) && fl.pass(m) {
					want = append(want, m.id)
				}
			}
			f := fl.f
			f.Q, f.Limit = term, 1000
			found, err := st.ListInbox(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			keyMatchesRead = 1
			asked, err := st.ListInbox(ctx, f)
			keyMatchesRead = 1000
			if err != nil {
				t.Fatal(err)
			}
			for path, page := range map[string]Page[InboxMessage]{"found first": found, "the index asked": asked} {
				if page.Total != int64(len(want)) || !slices.Equal(messageIDs(page.Items), want) {
					t.Errorf("%q, %s, %s: %d messages %v, want %d %v", term, fl.name, path, page.Total, messageIDs(page.Items), len(want), want)
				}
			}
		}
	}
}
