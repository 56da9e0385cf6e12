package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// backup runs "backup": a consistent copy of the live SQLite database.
func backup(ctx context.Context, args []string, o IO) error {
	fs := newFlagSet("backup", "Write a consistent copy of the SQLite database while marketgate serve keeps running\n"+
		"(SQLite's online VACUUM INTO, checked before it is kept), then print how to restore it.\n"+
		"A PostgreSQL database is backed up with PostgreSQL's own tools.", o.Stderr)
	db, err := dbFlags(fs, o.Env)
	if err != nil {
		return err
	}
	out := fs.String("out", "", "the backup file to write (must not exist; default: DATA_DIR/backups/marketgate-<UTC time>.db)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := db()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		// Never create an empty database to back up.
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "marketgate.db")); err != nil {
			return fmt.Errorf("no database at %s: check --data-dir", filepath.Join(cfg.DataDir, "marketgate.db"))
		}
	}
	dest := *out
	if dest == "" {
		dest = filepath.Join(cfg.DataDir, "backups", "marketgate-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.Backup(ctx, dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "backup written: %s (%.1f MB, schema %s, integrity checked)\n\n", res.Path, float64(res.Bytes)/1e6, res.Migration)
	fmt.Fprintf(o.Stdout, "To restore it:\n"+
		"  1. stop marketgate (every replica);\n"+
		"  2. move the data directory's marketgate.db, marketgate.db-wal and marketgate.db-shm aside;\n"+
		"  3. copy the backup to DATA_DIR/marketgate.db;\n"+
		"  4. start marketgate: it applies any newer migrations at start-up.\n")
	return nil
}
