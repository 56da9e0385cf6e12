package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The whole server, started in-process in sandbox mode on a fresh SQLite
// directory: it answers /healthz, its jobs report on /metrics, the
// simulated marketplaces are mounted, and Stop shuts it down.
func TestStartSandboxInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the sandbox's demo data")
	}
	cfg := load(t, envOf(), "--sandbox", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn")
	r, err := Start(context.Background(), cfg, IO{Stdout: io.Discard, Stderr: io.Discard, Env: envOf()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") || strings.HasSuffix(r.URL, ":0") {
		t.Fatalf("URL %q is not where the server listens", r.URL)
	}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(r.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, job := range []string{jobMeteringSeal, jobMeteringSend, jobAlerts, jobRetention, jobAzureInbox, jobSandboxAzure} {
		if code != http.StatusOK || !strings.Contains(body, `marketgate_job_runs_total{job_name="`+job+`"}`) {
			t.Errorf("/metrics lacks the runs of job %s", job)
		}
	}
	if code, body := get("/sandbox/aws"); code != http.StatusOK || !strings.Contains(body, "Sandbox: buy on AWS Marketplace") {
		t.Fatalf("/sandbox/aws: %d", code)
	}
	if code, _ := get("/sandbox/azure"); code != http.StatusOK {
		t.Fatalf("/sandbox/azure: %d", code)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop again: %v", err)
	}
	if _, err := http.Get(r.URL + "/healthz"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
}

// Start gives a bad start-up back as an error and leaves nothing open.
func TestStartRefusesAPublicSandboxAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the sandbox's demo data")
	}
	cfg := load(t, envOf(), "--sandbox", "--addr", "0.0.0.0:0", "--data-dir", t.TempDir())
	_, err := Start(context.Background(), cfg, IO{Stdout: io.Discard, Stderr: io.Discard, Env: envOf()})
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("err = %v", err)
	}
}
