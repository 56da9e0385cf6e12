package api

import (
	"log/slog"
	"testing"
)

// TestRequestLogLevels: health checks, scrapes and the sandbox's simulated
// marketplaces log at debug; every other request one line at info; server
// errors at error.
func TestRequestLogLevels(t *testing.T) {
	for _, c := range []struct {
		route  string
		status int
		want   slog.Level
	}{
		{"/healthz", 200, slog.LevelDebug},
		{"/metrics", 200, slog.LevelDebug},
		{"/sandbox/aws/sqs", 200, slog.LevelDebug},
		{"/sandbox/aws/metering", 500, slog.LevelError},
		{"/api/subscriptions", 200, slog.LevelInfo},
		{"/api/v1/usage", 200, slog.LevelDebug},
		{"/api/v1/seats/check", 200, slog.LevelDebug},
		{"/api/v1/usage", 401, slog.LevelInfo},
		{"/api/v1/seats/check", 400, slog.LevelInfo},
		{"/api/v1/usage", 503, slog.LevelError},
		{"/marketplace/aws/register", 303, slog.LevelInfo},
		{"/api/subscriptions/:id", 500, slog.LevelError},
	} {
		if got := requestLogLevel(c.route, c.status); got != c.want {
			t.Errorf("%s %d: %v, want %v", c.route, c.status, got, c.want)
		}
	}
}
