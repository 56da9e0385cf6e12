package store

import (
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
