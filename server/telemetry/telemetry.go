// Package telemetry holds Marketgate's Prometheus metrics about its work
// (the HTTP layer and the job runner have their own): messages from the
// marketplaces, calls to them, usage events, webhook deliveries and seat
// checks. Every method is safe on a nil *Metrics, so a part built without
// metrics (a test, the sandbox's seed) just records nothing.
//
// Label values are always from small fixed sets (a marketplace, a source,
// an API operation, an outcome, a reason code): never a customer, an id or
// free text, so the number of series stays bounded.
package telemetry

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the counters and histograms, registered on one registry.
type Metrics struct {
	inbound    *prometheus.CounterVec
	calls      *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	usage      *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	seatChecks *prometheus.CounterVec
	records    *prometheus.GaugeVec
	usageIDs   prometheus.Gauge
}

// New registers the metrics on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_inbound_messages_total",
			Help: "Messages from the marketplaces (AWS registrations and SQS notifications, Microsoft landings and webhook calls) by outcome: received (stored for the first time), duplicate (a redelivery of a stored one), processed, ignored, failed."},
			[]string{"marketplace", "source", "outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_marketplace_calls_total",
			Help: "Calls to the marketplaces' APIs by API operation and outcome (ok, client_error, throttled, server_error, network_error)."},
			[]string{"marketplace", "api", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "marketgate_marketplace_call_duration_seconds",
			Help:    "Latency of the calls to the marketplaces' APIs (with the SDK's retries), by API operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"marketplace", "api"}),
		usage: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_usage_events_total",
			Help: "Usage events reported by the seller's application, by outcome (accepted, duplicate, rejected) and, for rejections, reason code."},
			[]string{"outcome", "reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_webhook_deliveries_total",
			Help: "Attempts to deliver outbound webhook events, by outcome (delivered, failed: retried later, gave_up: no more retries)."},
			[]string{"outcome"}),
		seatChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_seat_checks_total",
			Help: "Seat checks by the seller's application, by answer (licensed or not) and reason."},
			[]string{"licensed", "reason"}),
		records: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "marketgate_metering_records",
			Help: "Metering records of the last 7 days by status (pending, accepted, rejected, duplicate, conflict, expired …), as of the last observation (every 30 s)."},
			[]string{"status"}),
		usageIDs: prometheus.NewGauge(prometheus.GaugeOpts{Name: "marketgate_usage_ids_held",
			Help: "Usage event ids this process holds in memory to answer repeats (those with a timestamp in the last 48 hours; about 40 bytes each), as of the last observation (every 30 s)."}),
	}
	for _, c := range []prometheus.Collector{m.inbound, m.calls, m.latency, m.usage, m.deliveries, m.seatChecks, m.records, m.usageIDs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Inbound counts a message from a marketplace.
func (m *Metrics) Inbound(marketplace, source, outcome string) {
	if m == nil {
		return
	}
	m.inbound.WithLabelValues(marketplace, sourceLabel(marketplace, source), outcome).Inc()
}

// sourceLabel is a stored source without its marketplace prefix
// ("aws_sqs" → "sqs"); Microsoft's notifications (stored as
// "azure_webhook") are "notification", the word Marketgate uses for them.
func sourceLabel(marketplace, source string) string {
	s := strings.TrimPrefix(source, marketplace+"_")
	if marketplace == "azure" && s == "webhook" {
		return "notification"
	}
	return s
}

// Call records one call to a marketplace API and how it ended (ok,
// client_error, throttled, server_error, network_error).
func (m *Metrics) Call(marketplace, api, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(marketplace, api, outcome).Inc()
	m.latency.WithLabelValues(marketplace, api).Observe(d.Seconds())
}

// Usage counts one usage event's answer.
func (m *Metrics) Usage(outcome, reason string) {
	if m == nil {
		return
	}
	m.usage.WithLabelValues(outcome, reason).Inc()
}

// Delivery counts one outbound webhook delivery attempt.
func (m *Metrics) Delivery(outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(outcome).Inc()
}

// SeatCheck counts one seat check's answer.
func (m *Metrics) SeatCheck(licensed bool, reason string) {
	if m == nil {
		return
	}
	l := "false"
	if licensed {
		l = "true"
	}
	m.seatChecks.WithLabelValues(l, reason).Inc()
}

// MeteringRecords sets the metering records by status (statuses not in
// counts go to zero).
func (m *Metrics) MeteringRecords(counts map[string]int64) {
	if m == nil {
		return
	}
	m.records.Reset()
	for status, n := range counts {
		m.records.WithLabelValues(status).Set(float64(n))
	}
}

// UsageIDsHeld sets the number of usage event ids held in memory.
func (m *Metrics) UsageIDsHeld(n int) {
	if m == nil {
		return
	}
	m.usageIDs.Set(float64(n))
}

// OutcomeOfStatus names a call's outcome from its HTTP status.
func OutcomeOfStatus(status int) string {
	switch {
	case status == 0:
		return "network_error"
	case status < 400:
		return "ok"
	case status == 429:
		return "throttled"
	case status < 500:
		return "client_error"
	}
	return "server_error"
}
