// Package storetest opens real databases for tests: a fresh SQLite file
// always, and a fresh Postgres database when MARKETGATE_TEST_POSTGRES_URL
// names a server (scripts/test.sh starts one).
package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/marketgate/marketgate/store"
)

// PostgresEnv names the admin URL of a Postgres server for tests.
const PostgresEnv = "MARKETGATE_TEST_POSTGRES_URL"

// Dialects returns the databases to run a test on: sqlite, plus postgres
// when PostgresEnv is set.
func Dialects() []string {
	if os.Getenv(PostgresEnv) != "" {
		return []string{store.SQLite, store.Postgres}
	}
	return []string{store.SQLite}
}

// Each runs fn as a subtest on every available database, migrated.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Open returns a migrated store on a fresh database of the dialect.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	cfg := Config(t, dialect)
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return st
}

var counter atomic.Int64

// Config returns a store configuration for a fresh, empty database.
func Config(t testing.TB, dialect string) store.Config {
	t.Helper()
	if dialect == store.SQLite {
		return store.Config{DataDir: t.TempDir()}
	}
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		t.Skip(PostgresEnv + " is not set")
	}
	name := fmt.Sprintf("mgtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	db, err := gorm.Open(postgres.Open(admin), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	if err := db.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := gorm.Open(postgres.Open(admin), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return
		}
		sqlDB, _ := db.DB()
		defer sqlDB.Close()
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("bad %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return store.Config{DatabaseURL: strings.Replace(u.String(), "postgresql://", "postgres://", 1)}
}
