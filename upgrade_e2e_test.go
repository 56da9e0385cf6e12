package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"

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

	// As before the upgrade: documents without short grams, the migration
	// not applied.
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"UPDATE subscription_search SET bi = ''", "DELETE FROM schema_migrations WHERE id = '202612050080_short_grams'"} {
		if err := st.TestingDB(t).Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	var stored int
	if err := st.TestingDB(t).Raw("SELECT count(*) FROM subscriptions").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	st.Close()

	s = start(t, dir, env, "--sandbox")
	signIn(s)
	indexed := regexp.MustCompile(`msg="search index: queued subscriptions indexed" subscriptions=(\d+)`)
	eventually(t, s, "the search.index job indexing the queue", func() bool { return indexed.MatchString(s.out.String()) })
	n, _ := strconv.Atoi(indexed.FindStringSubmatch(s.out.String())[1])
	if n != stored {
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
	st, err = store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"DROP TABLE subscription_search_grams", "DROP TABLE subscription_search_grams_fill",
		"DELETE FROM schema_migrations WHERE id = '202612060010_search_grams'"} {
		if err := st.TestingDB(t).Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := st.TestingDB(t).Raw("SELECT count(*) FROM subscriptions").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	st.Close()
	s = start(t, dir, env, "--sandbox")
	signIn(s)
	for _, q := range terms {
		if got, _ := search(s, q); !slices.Equal(got, want[q]) {
			t.Errorf("%q before the grams are listed: %v, want %v", q, got, want[q])
		}
	}
	listed := regexp.MustCompile(`msg="search index: grams of the indexed subscriptions listed" subscriptions=(\d+)`)
	eventually(t, s, "the search.index job listing the grams", func() bool { return listed.MatchString(s.out.String()) })
	if n, _ := strconv.Atoi(listed.FindStringSubmatch(s.out.String())[1]); n < stored {
		t.Fatalf("the job read %d subscriptions for their grams, want all %d", n, stored)
	}
	for _, q := range terms {
		if got, _ := search(s, q); !slices.Equal(got, want[q]) {
			t.Errorf("%q after the grams are listed: %v, want %v", q, got, want[q])
		}
	}
}
