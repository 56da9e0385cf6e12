package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
)

// An upgrade whose migration queues every subscription for the text index
// again (as 202612050080_short_grams does): serve starts without indexing
// them first (about five minutes at a million), its search.index job
// indexes the whole queue, and the searches answer as before. Then an
// upgrade to the table of the index's grams: the job lists the grams of
// every subscription indexed before, and the searches answer as before.
func TestUpgradeIndexesTheSearchInTheBackground(t *testing.T) {
	dir := t.TempDir()
	env := []string{"MARKETGATE_ADMIN_EMAIL=ops@example.com", "MARKETGATE_ADMIN_PASSWORD=end-to-end-password"}
	type page struct {
		Items []struct {
			ID int `json:"id"`
		} `json:"items"`
		Total int `json:"total"`
	}
	var c *http.Client
	signIn := func(s *server) {
		t.Helper()
		c = client(t)
		r := postJSON(t, c, s.url+"/api/auth/login", `{"email":"ops@example.com","password":"end-to-end-password"}`)
		if r.StatusCode != 200 {
			t.Fatalf("login: %d", r.StatusCode)
		}
		r.Body.Close()
	}
	// A search's first page and its total.
	search := func(s *server, q string) (ids []int, total int) {
		t.Helper()
		r, err := c.Get(s.url + "/api/subscriptions?limit=100&q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		var p page
		decode(t, r, &p)
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		return append(ids, -p.Total), p.Total
	}
	terms := []string{"", "on", "o", "ltd", "zq"}
	s := start(t, dir, env, "--sandbox")
	signIn(s)
	want := map[string][]int{}
	for _, q := range terms {
		want[q], _ = search(s, q)
	}
	_, all := search(s, "")
	if _, on := search(s, "on"); on == 0 || on == all {
		t.Fatalf("the sandbox's subscriptions: %d of %d hold %q (want some, not all)", on, all, "on")
	}
	stopServer(s)

	// undo runs statements on the stopped server's database (an earlier
	// version's state) and counts its subscriptions and messages then.
	undo := func(stmts ...string) (subs, messages int) {
		t.Helper()
		st, err := store.Open(context.Background(), store.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, stmt := range stmts {
			if err := st.TestingDB(t).Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := st.TestingDB(t).Raw("SELECT (SELECT count(*) FROM subscriptions), (SELECT count(*) FROM inbox_messages)").Row().Scan(&subs, &messages); err != nil {
			t.Fatal(err)
		}
		return subs, messages
	}
	// logged waits for a job's log line and answers its count (key=N).
	logged := func(s *server, what, msg, key string) int {
		t.Helper()
		re := regexp.MustCompile(`msg="` + msg + `" ` + key + `=(\d+)`)
		eventually(t, s, what, func() bool { return re.MatchString(s.out.String()) })
		n, _ := strconv.Atoi(re.FindStringSubmatch(s.out.String())[1])
		return n
	}

	// As before the upgrade: documents without short grams, the migration
	// not applied.
	stored, _ := undo("UPDATE subscription_search SET bi = ''", "DELETE FROM schema_migrations WHERE id = '202612050080_short_grams'")

	s = start(t, dir, env, "--sandbox")
	signIn(s)
	if n := logged(s, "the search.index job indexing the queue", "search index: queued subscriptions indexed", "subscriptions"); n != stored {
		t.Fatalf("the job indexed %d subscriptions, want all %d (did serve index them before listening?)", n, stored)
	}
	for _, q := range terms {
		if got, _ := search(s, q); !slices.Equal(got, want[q]) {
			t.Errorf("%q after the upgrade: %v, want %v", q, got, want[q])
		}
	}
	stopServer(s)

	// As before the table of the index's grams (search_grams.go): the
	// job lists the grams of every subscription indexed before it, and
	// the searches answer as before, meanwhile and after.
	stored, messages := undo("DROP TABLE subscription_search_grams", "DROP TABLE subscription_search_grams_fill",
		"DROP TABLE inbox_key_search_grams", "DROP TABLE inbox_key_search_grams_fill",
		"DELETE FROM schema_migrations WHERE id IN ('202612060010_search_grams', '202612060020_inbox_key_grams')")
	s = start(t, dir, env, "--sandbox")
	signIn(s)
	for _, q := range terms {
		if got, _ := search(s, q); !slices.Equal(got, want[q]) {
			t.Errorf("%q before the grams are listed: %v, want %v", q, got, want[q])
		}
	}
	if messages > 0 {
		if n := logged(s, "the inbox.keys job listing the keys' grams", "search index: grams of the indexed message keys listed", "messages"); n < messages {
			t.Fatalf("the job read %d messages for their grams, want all %d", n, messages)
		}
	}
	if n := logged(s, "the search.index job listing the grams", "search index: grams of the indexed subscriptions listed", "subscriptions"); n < stored {
		t.Fatalf("the job read %d subscriptions for their grams, want all %d", n, stored)
	}
	for _, q := range terms {
		if got, _ := search(s, q); !slices.Equal(got, want[q]) {
			t.Errorf("%q after the grams are listed: %v, want %v", q, got, want[q])
		}
	}
}

// TestIndexingSurvivesAKill: serve is killed (SIGKILL) while its
// search.index job works through a queue of 20,000 subscriptions; started
// again, it indexes what is left, and the index then holds every
// subscription once, the table of grams every gram of every digest, and
// the searches find what LIKE finds.
func TestIndexingSurvivesAKill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{"MARKETGATE_ADMIN_EMAIL=ops@example.com", "MARKETGATE_ADMIN_PASSWORD=end-to-end-password"}
	stopServer(start(t, dir, env, "--sandbox")) // (the sandbox's own data first)

	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 20000
	names := []string{"Contoso Ltd", "株式会社テスト商事", "Northwind Traders", "山田商店 東京支店", "Fabrikam, Inc.", "Ünïcödé GmbH"}
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	subs := make([]store.Subscription, n)
	for i := range subs {
		s := &subs[i]
		*s = store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: at, Name: fmt.Sprintf("%s %05d", names[i%len(names)], i*7),
			AzureSubscriptionID: fmt.Sprintf("%08x-1111-4000-a000-%012x", i, i*31), Version: 1, CreatedAt: at, UpdatedAt: at}
		s.SearchText = store.SearchTextFor(s, nil)
	}
	if err := st.BulkCreateSubscriptions(ctx, subs); err != nil { // (queued for the index)
		t.Fatal(err)
	}
	queued := func() int {
		var q int
		if err := st.TestingDB(t).Raw("SELECT count(*) FROM subscription_search_dirty").Scan(&q).Error; err != nil {
			t.Fatal(err)
		}
		return q
	}

	s := start(t, dir, env, "--sandbox")
	deadline := time.Now().Add(60 * time.Second)
	for q := queued(); q > n-3000; q = queued() {
		if time.Now().After(deadline) {
			t.Fatalf("the job has not started on the queue: %d left\n%s", q, s.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil
	left := queued()
	if left == 0 {
		t.Fatal("the queue was done before the kill: nothing tested")
	}
	t.Logf("killed with %d of %d subscriptions left to index", left, n)

	s = start(t, dir, env, "--sandbox")
	indexed := regexp.MustCompile(`msg="search index: queued subscriptions indexed" subscriptions=(\d+)`)
	eventually(t, s, "the search.index job indexing the rest", func() bool { return indexed.MatchString(s.out.String()) })
	if q := queued(); q != 0 {
		t.Fatalf("%d subscriptions still queued", q)
	}
	var digests []string
	if err := st.TestingDB(t).Raw("SELECT search_text FROM subscriptions ORDER BY id").Scan(&digests).Error; err != nil {
		t.Fatal(err)
	}
	var docs, distinct int
	if err := st.TestingDB(t).Raw("SELECT count(*), count(DISTINCT docid) FROM subscription_search").Row().Scan(&docs, &distinct); err != nil {
		t.Fatal(err)
	}
	if docs != len(digests) || distinct != docs {
		t.Fatalf("the index holds %d documents (%d distinct) for %d subscriptions", docs, distinct, len(digests))
	}
	var listed []string
	if err := st.TestingDB(t).Raw("SELECT gram FROM subscription_search_grams").Scan(&listed).Error; err != nil {
		t.Fatal(err)
	}
	if missing := store.GramsMissing(t, digests, listed); len(missing) > 0 {
		t.Fatalf("%d grams of the digests are not listed, such as %v", len(missing), missing[:min(len(missing), 5)])
	}

	c := client(t)
	r := postJSON(t, c, s.url+"/api/auth/login", `{"email":"ops@example.com","password":"end-to-end-password"}`)
	r.Body.Close()
	for _, q := range []string{"contoso ltd 0007", "テスト商事 001", "東京", "zq", "q", "ünï", "1111-4000", "northwind traders 2"} {
		want := 0
		for _, d := range digests {
			if strings.Contains(d, store.NormalizeSearch(q)) {
				want++
			}
		}
		r, err := c.Get(s.url + "/api/subscriptions?limit=1&q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Total       int  `json:"total"`
			TotalCapped bool `json:"total_capped"`
		}
		decode(t, r, &p)
		if p.Total != want && !(p.TotalCapped && want >= p.Total) {
			t.Errorf("%q: %d found (capped %v), LIKE finds %d", q, p.Total, p.TotalCapped, want)
		}
	}
}
