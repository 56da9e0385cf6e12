package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
)

// The hand-written usage answer is byte for byte what encoding/json writes.
func TestAppendResultMatchesEncodingJSON(t *testing.T) {
	id := uint(42)
	h := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	for _, r := range []metering.Result{
		{ID: "e1", Status: "accepted", SubscriptionID: &id, Hour: &h},
		{ID: "e2", Status: "accepted", SubscriptionID: &id, Hour: &h, Late: true},
		{ID: "e\"3\\<x>&\u00e9\n", Status: "rejected", Reason: `dimension "gpu" is not metered on plan "std"`},
		{ID: "e4", Status: "duplicate", OriginalStatus: "accepted", SubscriptionID: &id, Hour: &h},
		{ID: "", Status: "rejected", Reason: "id is required"},
		{ID: "e5", Status: "duplicate", OriginalStatus: "rejected", Reason: "too late for its hour: …", Code: metering.CodeHourClosed},
	} {
		want, _ := json.Marshal(r)
		if got := string(appendResult(nil, &r)); got != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
