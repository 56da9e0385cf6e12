package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// BackupResult describes a finished backup.
type BackupResult struct {
	Path      string // the backup file
	Bytes     int64  // its size
	Migration string // the last migration the copy holds (its schema version)
}

// ErrBackupPostgres: Marketgate does not copy a PostgreSQL database; its
// own tools do (pg_dump, or continuous archiving).
var ErrBackupPostgres = errors.New("the database is PostgreSQL: back it up with PostgreSQL's own tools (pg_dump, or continuous archiving and point-in-time recovery); see the README")

// Backup writes a consistent copy of the live SQLite database to dest, while
// the server keeps running: SQLite's VACUUM INTO reads one snapshot inside a
// read transaction (writers go on; the copy holds every transaction
// committed before it started and none after), and writes a compact database
// file, not a copy of the database and its write-ahead log. The copy is
// written beside dest and renamed into place once complete and checked
// (PRAGMA integrity_check), so dest is either absent or a whole backup. An
// existing dest is refused, never overwritten.
func (s *Store) Backup(ctx context.Context, dest string) (BackupResult, error) {
	if s.Dialect != SQLite {
		return BackupResult{}, ErrBackupPostgres
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return BackupResult{}, err
	}
	if _, err := os.Lstat(abs); err == nil {
		return BackupResult{}, fmt.Errorf("%s already exists: choose a new file name (a backup never overwrites a file)", dest)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return BackupResult{}, fmt.Errorf("create the backup's folder: %w", err)
	}
	partial := abs + ".partial"
	_ = os.Remove(partial) // left by a backup that was interrupted
	defer os.Remove(partial)
	if err := s.r.WithContext(ctx).Exec("VACUUM INTO ?", partial).Error; err != nil {
		return BackupResult{}, fmt.Errorf("copy the database: %w", err)
	}
	res, err := checkBackup(ctx, partial)
	if err != nil {
		return BackupResult{}, err
	}
	if err := syncFile(partial); err != nil {
		return BackupResult{}, err
	}
	if _, err := os.Lstat(abs); err == nil {
		return BackupResult{}, fmt.Errorf("%s appeared while the backup was written: not overwritten", dest)
	}
	if err := os.Rename(partial, abs); err != nil {
		return BackupResult{}, err
	}
	res.Path = abs
	return res, nil
}

// checkBackup opens a backup file on its own, checks its integrity and reads
// its schema version.
func checkBackup(ctx context.Context, path string) (BackupResult, error) {
	db, err := openSQLiteFile(path)
	if err != nil {
		return BackupResult{}, fmt.Errorf("open the copy: %w", err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()
	var check string
	if err := db.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil {
		return BackupResult{}, fmt.Errorf("check the copy: %w", err)
	}
	if check != "ok" {
		return BackupResult{}, fmt.Errorf("the copy failed its integrity check: %s", check)
	}
	var res BackupResult
	if db.Migrator().HasTable("schema_migrations") {
		if err := db.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), '') FROM schema_migrations").Scan(&res.Migration).Error; err != nil {
			return BackupResult{}, err
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupResult{}, err
	}
	res.Bytes = fi.Size()
	return res, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// openSQLiteFile opens a database file read-only, on its own (no pool).
func openSQLiteFile(path string) (*gorm.DB, error) {
	return gorm.Open(sqlite.Open("file:"+path+"?mode=ro&_loc=UTC"), &gorm.Config{Logger: logger.Discard})
}
