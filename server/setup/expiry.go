package setup

import (
	"context"
	"fmt"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
)

// Thresholds are the days before a client secret's expiry at which an
// alert is raised, each once.
var Thresholds = []int{30, 7, 1}

// AlertStore raises an alert unless it was raised before (store.Store).
type AlertStore interface {
	RaiseAlertOnce(ctx context.Context, typ, key, title, detail, link string, now time.Time) (bool, error)
}

// threshold is the alert a secret with that much time left is due: the
// smallest threshold (in days) not below it, 0 once it has expired, -1
// when none is due yet.
func threshold(left time.Duration) int {
	if left <= 0 {
		return 0
	}
	due := -1
	for _, t := range Thresholds {
		if left <= time.Duration(t)*24*time.Hour {
			due = t
		}
	}
	return due
}

// SecretExpiryAlert raises the azure_secret_expiring alert the secret's
// expiry calls for now: once per threshold (30, 7, 1 days, then expired),
// keyed by app, expiry date and threshold, so a daily run raises each one
// once and a new secret starts again. It returns the threshold raised (-1:
// none).
func SecretExpiryAlert(ctx context.Context, st AlertStore, clientID string, end, now time.Time) (int, error) {
	t := threshold(end.Sub(now))
	if t < 0 {
		return -1, nil
	}
	day := end.UTC().Format("2006-01-02")
	title := fmt.Sprintf("Microsoft: the app's client secret expires on %s (in %d day(s))", day, t)
	if t == 0 {
		title = "Microsoft: the app's client secret expired on " + day
	}
	detail := "Add a new client secret to app " + clientID + " (Entra admin center → App registrations → Certificates & secrets), " +
		"set --azure-client-secret to its SetupValue and restart Marketgate before " + day + "; Microsoft's API refuses every call after it."
	raised, err := st.RaiseAlertOnce(ctx, alerts.SecretExpiring, fmt.Sprintf("%s|%s|%d", clientID, day, t), title, detail, "/setup", now)
	if err != nil || !raised {
		return -1, err
	}
	return t, nil
}

// AlertSecretExpiry is the daily job's work: read the secret's expiry
// (Graph, else the setting) and raise the alert it calls for.
func (c *Checker) AlertSecretExpiry(ctx context.Context, st AlertStore) (int, error) {
	if c.cfg.Azure == nil {
		return -1, nil
	}
	end, err := c.SecretExpiry(ctx)
	if err != nil {
		return -1, fmt.Errorf("client secret expiry: %w", err)
	}
	return SecretExpiryAlert(ctx, st, c.cfg.Azure.ClientID, end, c.cfg.Now())
}
