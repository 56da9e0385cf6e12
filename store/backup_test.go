package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestBackupOfALiveDatabaseRestores: a backup taken while the server writes
// is a consistent database that opens, migrates (nothing pending: it holds
// the schema it was taken at) and holds every row committed before it —
// and a restore is only putting that file in a data directory.
func TestBackupOfALiveDatabaseRestores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		t.Fatal(err)
	}
	db := st.TestingDB(t)
	now := time.Now().UTC()
	for i := 0; i < 200; i++ {
		if err := db.Create(&store.Customer{Name: fmt.Sprintf("before %d", i), CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			t.Fatal(err)
		}
	}
	// A writer keeps committing while the backup runs.
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			db.Create(&store.Customer{Name: fmt.Sprintf("during %d", i), CreatedAt: now, UpdatedAt: now})
		}
	}()
	dest := filepath.Join(t.TempDir(), "nested", "marketgate-backup.db")
	res, err := st.Backup(ctx, dest)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != dest || res.Bytes == 0 || res.Migration == "" {
		t.Fatalf("backup result %+v", res)
	}
	if _, err := os.Stat(dest + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the partial file was left: %v", err)
	}
	// An existing file is never overwritten.
	if _, err := st.Backup(ctx, dest); err == nil {
		t.Fatal("a second backup to the same file overwrote it")
	}

	// Restore: the file becomes a data directory's database.
	restored := t.TempDir()
	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "marketgate.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := store.Open(ctx, store.Config{DataDir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	pending, err := rs.PendingMigrations()
	if err != nil || len(pending) != 0 {
		t.Fatalf("the restored database has pending migrations %v (%v)", pending, err)
	}
	if err := rs.Migrate(); err != nil {
		t.Fatal(err)
	}
	var before, total int64
	rs.TestingReadDB(t).Model(&store.Customer{}).Where("name LIKE 'before %'").Count(&before)
	rs.TestingReadDB(t).Model(&store.Customer{}).Count(&total)
	if before != 200 {
		t.Fatalf("the restored database holds %d of the 200 rows committed before the backup", before)
	}
	// The restored database takes writes.
	if err := rs.TestingDB(t).Create(&store.Customer{Name: "after restore", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("backup: %d bytes at %s, %d rows (%d written during the backup)", res.Bytes, res.Migration, total, total-before)
}

// TestBackupRefusesPostgres: a PostgreSQL database is backed up with its
// own tools; Backup says so instead of writing anything.
func TestBackupRefusesPostgres(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect != store.Postgres {
			t.Skip("PostgreSQL only")
		}
		dest := filepath.Join(t.TempDir(), "copy.db")
		if _, err := st.Backup(context.Background(), dest); !errors.Is(err, store.ErrBackupPostgres) {
			t.Fatalf("backup of PostgreSQL: %v", err)
		}
		if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("a file was written")
		}
	})
}
