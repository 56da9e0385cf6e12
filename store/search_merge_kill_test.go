package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// mergeChildEnv names the data directory a re-executed test binary merges
// (TestMergeSurvivesKills' child).
const mergeChildEnv = "MARKETGATE_TEST_MERGE_CHILD"

// TestMergeSurvivesKills: the text indexes are merged a step (one
// transaction on the writer) at a time, by the server's jobs and by
// `marketgate migrate`. A process killed (SIGKILL) while merging, in a
// step or between two, leaves an index that passes SQLite's and FTS4's
// integrity checks, answers every search as the keys themselves do, and
// is merged to the end by the next run. The merging runs in a child
// process (this test binary again) that says when each step has
// committed; the kill comes after a random number of steps, at a random
// moment of the next one's time, four times, with new segments added
// between the kills. (SQLite: Postgres has no such segments.)
func TestMergeSurvivesKills(t *testing.T) {
	if dir := os.Getenv(mergeChildEnv); dir != "" {
		mergeChild(dir)
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	var keys []string // the messages' keys, by id - 1
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	// addBatches writes n batches of 400 messages, each indexed on its
	// own (a segment each, as the server's indexing job writes them).
	addBatches := func(n int) {
		t.Helper()
		st := openAt(t, dir)
		defer st.Close()
		for b := 0; b < n; b++ {
			batch := make([]InboxMessage, 400)
			for i := range batch {
				k := len(keys)
				key := fmt.Sprintf("%08x-4000-a000-%012x", k*7919%(1<<32), k)
				batch[i] = InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: key, Body: "{}", Status: InboxProcessed, ReceivedAt: at}
				keys = append(keys, key)
				at = at.Add(time.Second)
			}
			if err := st.w.Create(&batch).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := st.IndexPendingInboxKeys(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	terms := []string{"a000-0000000001", "0000000000ff", "00c", "1d", "-4000-a000-00000000270"}
	// check answers the segments and levels of dir's key index, after
	// checking the database, the index and every term's search.
	check := func(stage string) (segments, levels int) {
		t.Helper()
		st := openAt(t, dir)
		defer st.Close()
		var ok string
		if err := st.w.Raw("PRAGMA integrity_check").Scan(&ok).Error; err != nil || ok != "ok" {
			t.Fatalf("%s: integrity_check: %q %v", stage, ok, err)
		}
		// FTS4's own check: the index holds every token of every key
		// where it should (an error when not).
		if err := st.w.Exec("INSERT INTO inbox_key_search (inbox_key_search) VALUES ('integrity-check')").Error; err != nil {
			t.Fatalf("%s: the key index's integrity-check: %v", stage, err)
		}
		for _, q := range terms {
			var want []uint
			for i := len(keys) - 1; i >= 0; i-- { // newest first, as the log lists
				if strings.Contains(keys[i], q) {
					want = append(want, uint(i+1))
				}
			}
			page, err := st.ListInbox(ctx, InboxFilter{Q: q, Limit: 1000})
			if err != nil {
				t.Fatalf("%s: %q: %v", stage, q, err)
			}
			// (A broad search counts to SearchCountCap: "more than".)
			counted := page.Total == int64(len(want)) || page.TotalCapped && page.Total <= int64(len(want))
			if got := messageIDs(page.Items); len(want) == 0 || !counted || !slices.Equal(got, want[:min(len(want), 1000)]) {
				t.Fatalf("%s: %q: %d messages %v, the keys hold it in %d: %v", stage, q, page.Total, got, len(want), want)
			}
		}
		if err := st.w.Raw("SELECT count(*), count(DISTINCT level) FROM inbox_key_search_segdir").Row().Scan(&segments, &levels); err != nil {
			t.Fatal(err)
		}
		return segments, levels
	}
	// merge runs the child on d and answers how many steps it committed
	// and whether it was killed; kill >= 0 kills it that long after its
	// killAfter-th step (-1: never).
	merge := func(d string, killAfter int, kill time.Duration) (steps int, killed bool) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestMergeSurvivesKills$")
		cmd.Env = append(os.Environ(), mergeChildEnv+"="+d)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			switch lines.Text() {
			case "step":
				steps++
				if kill >= 0 && steps == killAfter {
					time.Sleep(kill)
					_ = cmd.Process.Kill()
					killed = true
				}
			case "merged":
			default:
				t.Logf("child: %s", lines.Text())
			}
			if killed {
				break
			}
		}
		err = cmd.Wait()
		if !killed && err != nil {
			t.Fatalf("the merging child: %v\n%s", err, stderr.String())
		}
		return steps, killed
	}

	addBatches(45)
	before, _ := check("before merging")
	if before < 12 {
		t.Fatalf("%d segments: the test piles up too few to merge", before)
	}
	midway := 0
	for round := 1; round <= 4; round++ {
		// How many steps this round's merging takes, and how long, on a
		// copy; the kill comes after a random one of them but the last.
		cp := t.TempDir()
		if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		all, _ := merge(cp, 0, -1)
		if all < 2 {
			t.Fatalf("round %d: merged in %d steps: too few to kill in between", round, all)
		}
		step := time.Since(began) / time.Duration(all)
		segs, _ := check(fmt.Sprintf("round %d, before merging", round))
		after, in := 1+rand.IntN(all-1), time.Duration(rand.Int64N(int64(step)))
		done, killed := merge(dir, after, in)
		left, levels := check(fmt.Sprintf("round %d, killed %s after step %d of %d", round, in, after, all))
		t.Logf("round %d: %d segments; killed %s after step %d of %d (%s a step): %d segments on %d levels", round, segs, in.Round(time.Microsecond), done, all, step.Round(time.Microsecond), left, levels)
		if killed && left != segs && left != levels {
			midway++
		}
		addBatches(3)
	}
	if midway < 2 {
		t.Errorf("%d of 4 kills left the index partly merged: the test checked too little", midway)
	}
	merge(dir, 0, -1)
	if segs, levels := check("after merging to the end"); segs != levels {
		t.Errorf("after merging to the end: %d segments on %d levels, want one a level", segs, levels)
	}
}

// mergeChild merges dir's key index a step at a time, writing "step" to
// standard output after each step has committed and "merged" when none is
// left; then the process exits. Its steps write 8 blocks at most instead
// of 256: a step is a transaction whatever it writes, and the test's
// index, a few megabytes, would be merged in a step or two.
func mergeChild(dir string) {
	mergeStepBlocks = 8
	st, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	for {
		n, err := st.MergeInboxKeyIndex(context.Background(), time.Nanosecond) // (one step)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		if n == 0 {
			fmt.Println("merged")
			os.Exit(0)
		}
		fmt.Println("step")
	}
}

// openAt opens the SQLite store in dir, migrated.
func openAt(t *testing.T, dir string) *Store {
	t.Helper()
	st, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MigrateSchema(); err != nil {
		t.Fatal(err)
	}
	return st
}
