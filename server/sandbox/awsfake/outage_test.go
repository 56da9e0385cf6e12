package awsfake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFailBetween: an outage answers the request-level error AWS documents
// for a service failure (reference §4.3: "InternalServiceErrorException
// (500) … Resend identically") only while the fake's clock is inside it.
func TestFailBetween(t *testing.T) {
	now := time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC)
	m := NewMetering(func() time.Time { return now })
	m.FailBetween("BatchMeterUsage", "InternalServiceErrorException", now.Add(time.Hour), now.Add(3*time.Hour))
	call := func() (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"ProductCode":"p","UsageRecords":[]}`))
		req.Header.Set("X-Amz-Target", meteringPrefix+"BatchMeterUsage")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, c := range []struct {
		at   time.Duration
		fail bool
	}{{0, false}, {time.Hour, true}, {2 * time.Hour, true}, {3 * time.Hour, false}} {
		now = time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC).Add(c.at)
		code, body := call()
		failed := code == http.StatusInternalServerError && strings.Contains(body, "InternalServiceErrorException")
		if failed != c.fail {
			t.Fatalf("at +%s: %d %s, want failing %v", c.at, code, body, c.fail)
		}
	}
}
