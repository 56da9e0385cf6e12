package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The SQLite text indexes (FTS4) are kept in segments: each indexing
// transaction writes one, and FTS4 merges sixteen of a level into one of
// the next only when a level has sixteen. A token is sought in every
// segment: at a million messages (25 segments) the two trigrams of part
// of one key took 0.43 ms to read, 0.23 ms from one segment; a rarer
// token, held by 108 keys, 0.25 ms from 35 segments and 0.02 ms from one.
//
// mergeTextIndex merges, a step at a time, any two or more segments of a
// level into one of the next (FTS4's 'merge=X,2'), so that at most one
// segment is left on each level: a few at a million rows. Each step is a
// transaction of its own on the writer, writing about mergeStepBlocks
// blocks, so that webhooks and usage written meanwhile wait for one step
// at most.

// mergeStepBlocks is how many blocks a merge step writes at most (X). (A
// variable: a test lowers it, for more steps to kill a process between.)
var mergeStepBlocks = 256

// MergeSearchIndex merges the subscriptions' text index's segments, a step
// at least and for up to budget (0: until none is left to merge). It
// returns how many steps merged something. (SQLite; nothing on Postgres.)
func (s *Store) MergeSearchIndex(ctx context.Context, budget time.Duration) (int, error) {
	return s.mergeTextIndex(ctx, "subscription_search", budget)
}

// MergeInboxKeyIndex is MergeSearchIndex for the inbound messages' keys.
func (s *Store) MergeInboxKeyIndex(ctx context.Context, budget time.Duration) (int, error) {
	return s.mergeTextIndex(ctx, "inbox_key_search", budget)
}

func (s *Store) mergeTextIndex(ctx context.Context, table string, budget time.Duration) (int, error) {
	if s.Dialect != SQLite {
		return 0, nil
	}
	start := time.Now()
	steps := 0
	for {
		var changed int64
		err := s.tx(ctx, func(db *gorm.DB) error {
			// FTS4 tells that a step found nothing to merge by changing
			// (sqlite3_total_changes) fewer than two rows.
			var before, after int64
			if err := db.Raw("SELECT total_changes()").Scan(&before).Error; err != nil {
				return err
			}
			if err := db.Exec(fmt.Sprintf("INSERT INTO %s (%s) VALUES ('merge=%d,2')", table, table, mergeStepBlocks)).Error; err != nil {
				return err
			}
			if err := db.Raw("SELECT total_changes()").Scan(&after).Error; err != nil {
				return err
			}
			changed = after - before
			return nil
		})
		if err != nil {
			return steps, fmt.Errorf("merging %s: %w", table, err)
		}
		if changed < 2 {
			return steps, nil
		}
		steps++
		if budget > 0 && time.Since(start) >= budget {
			return steps, nil
		}
	}
}
