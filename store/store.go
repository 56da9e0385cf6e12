// Package store is Marketgate's persistence: gorm on SQLite (default) or
// Postgres, versioned migrations and the queries the server needs.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when an optimistic-concurrency check fails or a
// unique key is taken.
var ErrConflict = errors.New("conflict")

// Config says where the database is.
type Config struct {
	DataDir     string // SQLite: the file is DataDir/marketgate.db
	DatabaseURL string // postgres:// or postgresql:// switches to Postgres
	Logger      logger.Interface
}

// Store owns the database: every query is one of its methods (or of Tx,
// for those that share a transaction), and its handles stay inside this
// package. On SQLite w is the single writer connection and r a pool of
// readers (WAL lets them run beside the writer); on Postgres both are the
// same pool.
type Store struct {
	w       *gorm.DB // the writer (SQLite: one connection)
	r       *gorm.DB // the readers (SQLite: a pool beside the writer; Postgres: the same pool)
	Dialect string
	Now     func() time.Time
	// OnInbox, when set, hears of every inbound message's outcome:
	// received (stored for the first time), duplicate (a redelivery),
	// processed, ignored or failed (metrics).
	OnInbox func(marketplace, source, outcome string)

	grantGen *atomic.Uint64 // see GrantGeneration (a pointer: copies of a Store share it)
	shared   *sharedGen     // the database's count of grant changes, as last read
	grams    *gramSample    // how common each trigram is, in a sample (searchPlanFor)
	keyGrams *gramSample    // the same of the inbound messages' keys (inboxKeyCondition)
	// knownGrams are the grams known to be in the text index's table of
	// grams (search_grams.go; SQLite only, nil on Postgres; a pointer:
	// copies of a Store share it).
	knownGrams    *knownGrams
	keyKnownGrams *knownGrams // the same of the inbound messages' keys
}

// Open connects to the database. It does not migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	gcfg := func() *gorm.Config {
		l := cfg.Logger
		if l == nil {
			l = logger.Discard
		}
		return &gorm.Config{Logger: l, TranslateError: true, NowFunc: func() time.Time { return time.Now().UTC() }}
	}
	s := &Store{Now: func() time.Time { return time.Now().UTC() }, grantGen: &atomic.Uint64{}, shared: &sharedGen{}, grams: &gramSample{}, keyGrams: &gramSample{}}
	if u := cfg.DatabaseURL; strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		db, err := gorm.Open(postgres.Open(u), gcfg())
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		s.w, s.r, s.Dialect = db, db, Postgres
	} else if u != "" {
		return nil, fmt.Errorf("database URL must start with postgres:// (or leave it empty for SQLite)")
	} else {
		if cfg.DataDir == "" {
			return nil, errors.New("data directory is empty")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "marketgate.db")
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_busy_timeout", "10000")
		q.Set("_foreign_keys", "on")
		q.Set("_synchronous", "NORMAL")
		q.Set("_txlock", "immediate")
		q.Set("_loc", "UTC")
		// Multi-thread mode (SQLITE_OPEN_NOMUTEX): database/sql hands a
		// connection, and the statements prepared on it, to one goroutine
		// at a time, which is all SQLite asks of this mode; serialized mode
		// (the driver's default) locked and unlocked each connection's
		// mutex on every call, each bound value's too: 7 % of the server's
		// CPU under batches of usage events. (The driver's cancellation
		// calls sqlite3_interrupt from another goroutine, which SQLite
		// allows in any mode.)
		q.Set("_mutex", "no")
		q.Set("_cache_size", "-65536") // the writer: 64 MB of page cache keeps index inserts in memory
		dsn := "file:" + path + "?" + q.Encode()
		w, err := gorm.Open(sqlite.Open(dsn), gcfg())
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1) // one writer: SQLite allows one at a time anyway
		wdb.SetConnMaxIdleTime(0)
		q.Set("mode", "ro")
		q.Del("_txlock")
		q.Del("_journal_mode")
		q.Del("_synchronous")
		q.Del("_cache_size") // readers keep SQLite's default (2 MB each)
		r, err := gorm.Open(sqlite.Open("file:"+path+"?"+q.Encode()), gcfg())
		if err != nil {
			return nil, fmt.Errorf("open sqlite readers: %w", err)
		}
		rdb, _ := r.DB()
		rdb.SetMaxOpenConns(8)
		rdb.SetMaxIdleConns(8)
		s.w, s.r, s.Dialect = w, r, SQLite
		s.knownGrams, s.keyKnownGrams = newKnownGrams("subscription_search_grams", r), newKnownGrams("inbox_key_search_grams", r)
		// Create the file and switch it to WAL before any reader opens it.
		if err := w.WithContext(ctx).Exec("PRAGMA user_version").Error; err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// Checkpoint the WAL every 40 MB rather than every 4 MB: fewer
		// pauses for the writer under a steady stream of usage.
		if err := w.WithContext(ctx).Exec("PRAGMA wal_autocheckpoint = 10000").Error; err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	s.watchGrantTables()
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks that both handles answer.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range []*gorm.DB{s.w, s.r} {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
	}
	return nil
}

// Close closes the handles.
func (s *Store) Close() error {
	var errs []error
	for i, db := range []*gorm.DB{s.w, s.r} {
		if db == nil || (i == 1 && s.r == s.w) {
			continue
		}
		if sqlDB, err := db.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
	}
	return errors.Join(errs...)
}

// GetSetting returns a setting's value ("" and false when absent).
func (s *Store) GetSetting(ctx context.Context, key string) (string, bool, error) {
	var st Setting
	err := s.r.WithContext(ctx).Where("key = ?", key).Limit(1).Find(&st).Error
	if err != nil {
		return "", false, err
	}
	return st.Value, st.Key != "", nil
}

// SetSetting writes a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	return s.w.WithContext(ctx).Save(&Setting{Key: key, Value: value, UpdatedAt: s.Now()}).Error
}

// SettingOnce returns the setting, creating it with make() when absent;
// concurrent callers, on any replica, all get the same value.
func (s *Store) SettingOnce(ctx context.Context, key string, make func() string) (string, error) {
	db := s.w.WithContext(ctx)
	err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Setting{Key: key, Value: make(), UpdatedAt: s.Now()}).Error
	if err != nil {
		return "", err
	}
	var st Setting
	if err := db.Where("key = ?", key).First(&st).Error; err != nil {
		return "", err
	}
	return st.Value, nil
}

// IsUniqueViolation says whether err is a unique-key violation, on SQLite
// and Postgres alike (the connection translates both to
// gorm.ErrDuplicatedKey), or the ErrConflict this package makes of one.
func IsUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) || errors.Is(err, ErrConflict)
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	return err
}
