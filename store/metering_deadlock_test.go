package store

import (
	"errors"
	"testing"
)

// TestRetryDeadlock: a lease statement PostgreSQL aborted as a deadlock
// victim (SQLSTATE 40P01) runs again; any other error is returned at once.
func TestRetryDeadlock(t *testing.T) {
	calls := 0
	err := retryDeadlock(func() error {
		calls++
		if calls < 3 {
			return errors.New("ERROR: deadlock detected (SQLSTATE 40P01)")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("after two deadlocks: %v, %d calls", err, calls)
	}
	calls = 0
	other := errors.New("ERROR: relation does not exist (SQLSTATE 42P01)")
	if err := retryDeadlock(func() error { calls++; return other }); !errors.Is(err, other) || calls != 1 {
		t.Fatalf("another error: %v, %d calls", err, calls)
	}
	calls = 0
	if err := retryDeadlock(func() error { calls++; return errors.New("deadlock detected (SQLSTATE 40P01)") }); err == nil || calls != 5 {
		t.Fatalf("a deadlock every time: %v, %d calls", err, calls)
	}
}
