package store

import (
	"context"
	"testing"

	"gorm.io/gorm"
)

// TestingDB hands a test the writer's handle, for fixtures and checks
// that no query of this package covers (planting a row in a state the
// flows never make, reading a column back). It takes the test so that
// only tests can call it: production code goes through the store's
// queries.
func (s *Store) TestingDB(t testing.TB) *gorm.DB {
	t.Helper()
	return s.w
}

// TestingReadDB is TestingDB for the reader pool.
func (s *Store) TestingReadDB(t testing.TB) *gorm.DB {
	t.Helper()
	return s.r
}

// TestingSearchCondition is the WHERE condition (and its arguments) a
// search for q puts on the subscriptions: which index it asks, and what.
func (s *Store) TestingSearchCondition(t testing.TB, q string) (string, []any) {
	t.Helper()
	return s.searchCondition(context.Background(), NormalizeSearch(q))
}

// TestingReferenceIDsSQL is the statement that finds subscriptions by
// marketplace reference (the access check's and usage's lookup), for a
// test to read its plan.
func (s *Store) TestingReferenceIDsSQL(t testing.TB) string {
	t.Helper()
	return referenceIDsSQL
}

// TestingUsageHoursFromSQL is ingestion's read of the hours of n
// subscriptions (UsageHoursFrom), for a test to read its plan.
func (s *Store) TestingUsageHoursFromSQL(t testing.TB, n int) string {
	t.Helper()
	return usageHoursFromSQL(n)
}

// GramsMissing returns the grams of the digests (each trigram and short
// gram the subscriptions' text index holds) that listed lacks: for tests
// of the table of grams (search_grams.go).
func GramsMissing(t testing.TB, digests, listed []string) []string {
	t.Helper()
	have := map[string]bool{}
	for _, g := range listed {
		have[g] = true
	}
	want := map[string]struct{}{}
	for _, d := range digests {
		tri, bi := searchGrams(d)
		digestGrams(tri, bi, want)
	}
	var missing []string
	for g := range want {
		if !have[g] {
			missing = append(missing, g)
		}
	}
	return missing
}
