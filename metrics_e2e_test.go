package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// scrape reads /metrics and parses it with Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	r, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", r.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// sample finds a sample of a family whose labels include want.
func sample(f *dto.MetricFamily, want map[string]string) *dto.Metric {
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// TestMetricsFamilies: /metrics, scraped from the real binary after real
// work (a sandbox buyer through AWS's registration and SQS, usage accepted,
// repeated and refused, a seat check, a webhook delivered), has every family
// a Prometheus user expects: the Go runtime and process collectors, and
// Marketgate's inbound messages, marketplace calls with latency, usage
// events, metering records, webhook deliveries, seat checks and jobs.
func TestMetricsFamilies(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, []string{"MARKETGATE_ADMIN_EMAIL=ops@example.com", "MARKETGATE_ADMIN_PASSWORD=ops-password-1234"},
		"--sandbox", "--outbound-allow-private")
	c, _ := sandboxBuyer(t, s, "1", false, "metrics@journey.example")
	customer, dimension := usageTarget(t, s, c)
	key := apiKey(t, dir, "usage,seats")
	usage := func(id, cust string) {
		t.Helper()
		body := fmt.Sprintf(`{"events":[{"id":%q,"customer":%q,"dimension":%q,"quantity":1,"timestamp":%q}]}`,
			id, cust, dimension, time.Now().UTC().Format(time.RFC3339))
		req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/usage", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	usage("m-1", customer)
	usage("m-1", customer)             // a retry: duplicate
	usage("m-2", "no-such-customer-x") // refused
	req, _ := http.NewRequest(http.MethodGet, s.url+"/api/v1/seats/check?tenant_id=8fd4e52e-4f77-421f-a07f-aac2e189eecc&email=ann@example.com", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("seat check: %v %v", err, r)
	} else {
		r.Body.Close()
	}
	// A webhook endpoint of the seller's, sent a test event.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	admin := client(t)
	if r := postJSON(t, admin, s.url+"/api/auth/login", `{"email":"ops@example.com","password":"ops-password-1234"}`); r.StatusCode != 200 {
		t.Fatalf("admin login: %d", r.StatusCode)
	}
	r := postJSON(t, admin, s.url+"/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["*"],"description":"metrics"}`, hook.URL))
	var created struct {
		Endpoint struct {
			ID uint `json:"id"`
		} `json:"endpoint"`
	}
	if r.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(r.Body)
		t.Fatalf("webhook endpoint: %d %s", r.StatusCode, body)
	}
	decode(t, r, &created)
	ep := created.Endpoint
	if r := postJSON(t, admin, fmt.Sprintf("%s/api/webhooks/%d/test", s.url, ep.ID), `{}`); r.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook test: %d", r.StatusCode)
	}

	want := []struct {
		family string
		labels map[string]string
	}{
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
		{"marketgate_http_requests_total", nil},
		{"marketgate_inbound_messages_total", map[string]string{"marketplace": "aws", "source": "registration", "outcome": "received"}},
		{"marketgate_inbound_messages_total", map[string]string{"marketplace": "aws", "source": "registration", "outcome": "processed"}},
		{"marketgate_inbound_messages_total", map[string]string{"marketplace": "aws", "source": "sqs", "outcome": "processed"}},
		{"marketgate_marketplace_calls_total", map[string]string{"marketplace": "aws", "api": "Marketplace Metering ResolveCustomer", "outcome": "ok"}},
		{"marketgate_marketplace_calls_total", map[string]string{"marketplace": "aws", "api": "SQS ReceiveMessage", "outcome": "ok"}},
		{"marketgate_marketplace_call_duration_seconds", map[string]string{"marketplace": "aws", "api": "Marketplace Metering ResolveCustomer"}},
		{"marketgate_usage_events_total", map[string]string{"outcome": "accepted"}},
		{"marketgate_usage_events_total", map[string]string{"outcome": "duplicate"}},
		{"marketgate_usage_events_total", map[string]string{"outcome": "rejected", "reason": "unknown_customer"}},
		{"marketgate_seat_checks_total", nil},
		{"marketgate_webhook_deliveries_total", map[string]string{"outcome": "delivered"}},
		{"marketgate_metering_records", nil},
		{"marketgate_job_runs_total", nil},
		{"marketgate_metering_records_pending", nil},
		{"marketgate_usage_ids_held", nil},
	}
	var fams map[string]*dto.MetricFamily
	missing := ""
	deadline := time.Now().Add(60 * time.Second)
	for {
		fams, missing = scrape(t, s.url), ""
		for _, w := range want {
			if sample(fams[w.family], w.labels) == nil {
				missing += fmt.Sprintf("\n  %s%v", w.family, w.labels)
			}
		}
		// The ids of the usage sent above are held (once observed).
		if held := sample(fams["marketgate_usage_ids_held"], nil); held != nil && held.GetGauge().GetValue() < 1 {
			missing += "\n  marketgate_usage_ids_held ≥ 1"
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing from /metrics:%s", missing)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if h := sample(fams["marketgate_marketplace_call_duration_seconds"], map[string]string{"api": "Marketplace Metering ResolveCustomer"}); h.GetHistogram().GetSampleCount() == 0 {
		t.Fatal("the call latency histogram holds no sample")
	}
	if fams["marketgate_marketplace_call_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Fatal("call latency is not a histogram")
	}
	checkMonitoringFiles(t, fams)
}

// checkMonitoringFiles: the shipped alert rules parse with Prometheus's own
// rule parser (expressions, durations, templates), the Grafana dashboard's
// queries parse as PromQL, and every metric either names is one Marketgate
// exports (seen in fams, a real scrape): a renamed metric fails here
// instead of silently emptying a dashboard or muting an alert.
func checkMonitoringFiles(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	exported := func(name string) bool {
		if name == "up" { // Prometheus's own, per scrape target
			return true
		}
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			if _, ok := fams[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) {
				return true
			}
		}
		return false
	}
	check := func(where, expr string) {
		t.Helper()
		e, err := p.ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where, expr, err)
			return
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !exported(vs.Name) {
				t.Errorf("%s: %s is not a metric Marketgate exports", where, vs.Name)
			}
			return nil
		})
	}
	groups, errs := rulefmt.ParseFile("scripts/monitoring/prometheus-alerts.yml", false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("alert rules: %v", errs)
	}
	rules := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			check("alert "+r.Alert, r.Expr)
			rules++
		}
	}
	raw, err := os.ReadFile("scripts/monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*")
	queries := 0
	for _, panel := range dash.Panels {
		if len(panel.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", panel.Title)
		}
		for _, q := range panel.Targets {
			check("panel "+panel.Title, grafana.Replace(q.Expr))
			queries++
		}
	}
	t.Logf("monitoring files: %d alert rules, %d dashboard queries, all on exported metrics", rules, queries)
}
