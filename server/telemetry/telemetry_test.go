package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOutcomeOfStatus(t *testing.T) {
	for status, want := range map[int]string{0: "network_error", 200: "ok", 202: "ok", 400: "client_error", 404: "client_error",
		409: "client_error", 429: "throttled", 500: "server_error", 503: "server_error"} {
		if got := OutcomeOfStatus(status); got != want {
			t.Errorf("%d: %q, want %q", status, got, want)
		}
	}
}

// TestLabels: stored sources lose their marketplace prefix, Microsoft's
// notifications are "notification"; a nil *Metrics records nothing and
// does not panic.
func TestLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Inbound("aws", "aws_sqs", "processed")
	m.Inbound("azure", "azure_webhook", "failed")
	m.Call("aws", "Marketplace Metering BatchMeterUsage", "throttled", 120*time.Millisecond)
	m.SeatCheck(false, "no_seat")
	want := `
# HELP marketgate_inbound_messages_total Messages from the marketplaces (AWS registrations and SQS notifications, Microsoft landings and webhook calls) by outcome: received (stored for the first time), duplicate (a redelivery of a stored one), processed, ignored, failed.
# TYPE marketgate_inbound_messages_total counter
marketgate_inbound_messages_total{marketplace="aws",outcome="processed",source="sqs"} 1
marketgate_inbound_messages_total{marketplace="azure",outcome="failed",source="notification"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "marketgate_inbound_messages_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.calls); n != 1 {
		t.Fatalf("%d call series", n)
	}
	var none *Metrics
	none.Inbound("aws", "aws_sqs", "processed")
	none.Call("aws", "x", "ok", time.Second)
	none.Usage("accepted", "")
	none.Delivery("delivered")
	none.SeatCheck(true, "seat_assigned")
	none.MeteringRecords(map[string]int64{"pending": 1})
}
