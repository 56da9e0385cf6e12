package azurefake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFailBetween: an outage answers batchUsageEvent with the status it is
// given (a 5xx, which §7.2 says to retry) only while the fake's clock is
// inside it; other routes are not affected.
func TestFailBetween(t *testing.T) {
	start := time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC)
	now := start
	m := NewMarketplace(Options{Now: func() time.Time { return now }})
	m.FailBetween("batchUsageEvent", http.StatusServiceUnavailable, `{"message":"down"}`, start.Add(time.Hour), start.Add(3*time.Hour))
	call := func(path string) int {
		req := httptest.NewRequest(http.MethodPost, path+"?api-version="+APIVersion, strings.NewReader(`{"request":[]}`))
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, c := range []struct {
		at   time.Duration
		fail bool
	}{{0, false}, {time.Hour, true}, {2 * time.Hour, true}, {3 * time.Hour, false}} {
		now = start.Add(c.at)
		if code := call("/batchUsageEvent"); (code == http.StatusServiceUnavailable) != c.fail {
			t.Fatalf("at +%s: batchUsageEvent answered %d, want failing %v", c.at, code, c.fail)
		}
		if code := call("/usageEvent"); code == http.StatusServiceUnavailable {
			t.Fatalf("at +%s: usageEvent answered %d", c.at, code)
		}
	}
}
