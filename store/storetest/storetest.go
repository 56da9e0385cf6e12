// Package storetest opens real databases for tests: a fresh SQLite file
// always, and a fresh Postgres database when MARKETGATE_TEST_POSTGRES_URL
// names a server (scripts/test.sh starts one). A migrated database is a copy
// of one migrated once per test process; on Postgres that template
// (mgtpl_<host>_<pid>_…) outlives its process until the next test process drops
// it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	st := OpenOn(t, Migrated(t, dialect))
	if err := st.Migrate(); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return st
}

// OpenOn opens a store on the database of cfg, as another process would
// (a replica, a restart), closed when the test ends.
func OpenOn(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

var counter atomic.Int64

// Config returns a store configuration for a fresh, empty database.
func Config(t testing.TB, dialect string) store.Config {
	t.Helper()
	if dialect == store.SQLite {
		return store.Config{DataDir: t.TempDir()}
	}
	return postgresDatabase(t, nil)
}

// Migrated returns a store configuration for a fresh database that holds
// every migration already: a copy of one migrated once per test process
// (the migrations take about 0.4 s on Postgres and 0.05 s on SQLite, a
// copy a fraction of that). The store's Migrate finds nothing to do.
func Migrated(t testing.TB, dialect string) store.Config {
	t.Helper()
	if dialect == store.SQLite {
		b, err := sqliteTemplate()
		if err != nil {
			t.Fatalf("migrated SQLite template: %v", err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "marketgate.db"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return store.Config{DataDir: dir}
	}
	return postgresDatabase(t, postgresTemplate)
}

var (
	sqliteOnce sync.Once
	sqliteTpl  []byte
	sqliteErr  error
	pgOnce     sync.Once
	pgTpl      string
	pgErr      error
)

// sqliteTemplate is a migrated SQLite database file, made once per process
// (kept in memory: nothing is left on disk).
func sqliteTemplate() ([]byte, error) {
	sqliteOnce.Do(func() {
		dir, err := os.MkdirTemp("", "marketgate-storetest-")
		if err != nil {
			sqliteErr = err
			return
		}
		defer os.RemoveAll(dir)
		st, err := migrate(store.Config{DataDir: filepath.Join(dir, "db")})
		if err != nil {
			sqliteErr = err
			return
		}
		out := filepath.Join(dir, "copy.db")
		_, err = st.Backup(context.Background(), out) // a whole, checked copy
		_ = st.Close()
		if err != nil {
			sqliteErr = err
			return
		}
		sqliteTpl, sqliteErr = os.ReadFile(out)
	})
	return sqliteTpl, sqliteErr
}

// postgresTemplate is the name of a migrated Postgres database that the
// test databases of this process are copied from (CREATE DATABASE …
// TEMPLATE). It is made once per process and named after it; the
// templates of processes that have ended are dropped when a new one is
// made.
func postgresTemplate() (string, error) {
	pgOnce.Do(func() {
		admin, err := adminDB()
		if err != nil {
			pgErr = err
			return
		}
		defer closeDB(admin)
		dropEndedTemplates(admin)
		name := fmt.Sprintf("mgtpl_%s_%d_%d", hostTag(), os.Getpid(), time.Now().UnixNano()%1e9)
		if err := createDatabase(admin, name, ""); err != nil {
			pgErr = err
			return
		}
		st, err := migrate(store.Config{DatabaseURL: databaseURL(name)})
		if err != nil {
			pgErr = err
			return
		}
		_ = st.Close() // a template must have no connections when it is copied
		pgTpl = name
	})
	return pgTpl, pgErr
}

// dropEndedTemplates drops the templates of test processes on this
// machine that are no longer running (a server shared by several machines
// keeps the others').
func dropEndedTemplates(admin *gorm.DB) {
	var names []string
	prefix := "mgtpl_" + hostTag() + "_"
	admin.Raw("SELECT datname FROM pg_database WHERE starts_with(datname, ?)", prefix).Scan(&names)
	for _, n := range names {
		var pid, stamp int
		if _, err := fmt.Sscanf(strings.TrimPrefix(n, prefix), "%d_%d", &pid, &stamp); err != nil || processRuns(pid) {
			continue
		}
		admin.Exec("DROP DATABASE IF EXISTS " + n + " WITH (FORCE)")
	}
}

// hostTag names this machine in template names (8 hex digits of its
// host name's hash).
func hostTag() string {
	h, _ := os.Hostname()
	sum := fnv.New32a()
	sum.Write([]byte(h))
	return fmt.Sprintf("%08x", sum.Sum32())
}

func processRuns(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0) // signal 0: is there such a process
	return err == nil || errors.Is(err, syscall.EPERM)
}

func migrate(cfg store.Config) (*store.Store, error) {
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func adminDB() (*gorm.DB, error) {
	return gorm.Open(postgres.Open(os.Getenv(PostgresEnv)), &gorm.Config{Logger: logger.Discard})
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// databaseURL is the test server's URL for the database name.
func databaseURL(name string) string {
	u, err := url.Parse(os.Getenv(PostgresEnv))
	if err != nil {
		return ""
	}
	u.Path = "/" + name
	return strings.Replace(u.String(), "postgresql://", "postgres://", 1)
}

// createDatabase makes the database name, a copy of template when one is
// named. FILE_COPY copies the template's files (a checkpoint, cheap on a
// test server) rather than logging every page: about 60 ms against 110 ms
// for the default strategy; servers before PostgreSQL 15 have only the
// default.
func createDatabase(db *gorm.DB, name, template string) error {
	create := "CREATE DATABASE " + name
	if template == "" {
		return db.Exec(create).Error
	}
	create += " TEMPLATE " + template
	if db.Exec(create+" STRATEGY FILE_COPY").Error == nil {
		return nil
	}
	return db.Exec(create).Error
}

// postgresDatabase makes a fresh database on the test server, a copy of
// the database template names when it is given, and drops it when the
// test ends.
func postgresDatabase(t testing.TB, template func() (string, error)) store.Config {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		t.Skip(PostgresEnv + " is not set")
	}
	if _, err := url.Parse(admin); err != nil {
		t.Fatalf("bad %s: %v", PostgresEnv, err)
	}
	name := fmt.Sprintf("mgtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	db, err := adminDB()
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer closeDB(db)
	tpl := ""
	if template != nil {
		if tpl, err = template(); err != nil {
			t.Fatalf("migrated Postgres template: %v", err)
		}
	}
	if err := createDatabase(db, name, tpl); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := adminDB()
		if err != nil {
			return
		}
		defer closeDB(db)
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return store.Config{DatabaseURL: databaseURL(name)}
}
