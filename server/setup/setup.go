// Package setup checks, live, that Marketgate is connected to each
// marketplace the way going live needs, and says the exact fix when it is
// not: the Setup page (GET /api/setup), the admin's first-run checklist
// and "marketgate doctor" run the same checks. Every check has its own
// timeout and they run in parallel.
package setup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Status is a check's outcome.
type Status string

// Outcomes: ok passed; warn passed but needs attention soon (a secret
// close to expiry); fail needs the fix; skip could not be checked or does
// not apply (the message says why).
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Marketplaces.
const (
	AWS   = "aws"
	Azure = "azure"
)

// SetupValue is something to paste elsewhere (a URL, a policy), with a copy button.
type SetupValue struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// SetupCheck is one step of going live.
type SetupCheck struct {
	ID          string       `json:"id"`                           // stable, e.g. aws.credentials, aws.queue.readable
	Marketplace string       `json:"marketplace" enum:"aws,azure"` // aws or azure
	Title       string       `json:"title"`
	Status      Status       `json:"status" enum:"ok,warn,fail,skip"`
	Message     string       `json:"message"`       // what was found
	Fix         string       `json:"fix,omitempty"` // what to do, when it is not ok
	Values      []SetupValue `json:"values,omitempty"`
	Subject     string       `json:"subject,omitempty"` // what it is about when there are several (a queue URL)
	DurationMS  int64        `json:"duration_ms"`
}

// SetupReport is every check's outcome.
type SetupReport struct {
	Checks    []SetupCheck `json:"checks"`
	OK        bool         `json:"ok"` // no check failed
	CheckedAt time.Time    `json:"checked_at"`
	// AzureSecretExpiresAt is when the Microsoft client secret expires,
	// when it is known (Graph or --azure-client-secret-expires).
	AzureSecretExpiresAt *time.Time `json:"azure_secret_expires_at,omitempty"`
}

// Failed returns the failed checks.
func (r SetupReport) Failed() []SetupCheck {
	var out []SetupCheck
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// Config is what the checks check.
type Config struct {
	BaseURL string // the public address (the URLs to enter in the marketplaces)
	Sandbox bool   // the simulated marketplaces: http URLs are fine
	AWS     *AWSConfig
	Azure   *AzureConfig
	// Timeout bounds each check (default 10 s).
	Timeout time.Duration
	Now     func() time.Time
}

// Checker runs the checks of a Config.
type Checker struct {
	cfg Config
}

// New returns a checker.
func New(cfg Config) *Checker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Checker{cfg: cfg}
}

// step is a check (or a group of checks sharing calls); on a timeout or
// panic-free error it still answers every check it stands for.
type step struct {
	ids []SetupCheck // the checks it answers, with ID, marketplace and title set (used on a timeout)
	run func(ctx context.Context) []SetupCheck
}

// Run runs every check in parallel, each with the timeout.
func (c *Checker) Run(ctx context.Context) SetupReport {
	steps := append(c.awsSteps(), c.azureSteps()...)
	results := make([][]SetupCheck, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.runStep(ctx, s)
		}()
	}
	wg.Wait()
	rep := SetupReport{CheckedAt: c.cfg.Now().UTC(), OK: true}
	for _, r := range results {
		rep.Checks = append(rep.Checks, r...)
	}
	for _, ch := range rep.Checks {
		if ch.Status == Fail {
			rep.OK = false
		}
	}
	if az := c.cfg.Azure; az != nil {
		rep.AzureSecretExpiresAt = az.lastExpiry()
	}
	return rep
}

// runStep runs one step with the timeout; a step that does not answer in
// time fails each of its checks with what to look at.
func (c *Checker) runStep(ctx context.Context, s step) []SetupCheck {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	done := make(chan []SetupCheck, 1)
	go func() { done <- s.run(ctx) }()
	var out []SetupCheck
	select {
	case out = <-done:
	case <-ctx.Done():
		for _, ch := range s.ids {
			ch.Status, ch.Message = Fail, fmt.Sprintf("no answer within %s", c.cfg.Timeout)
			ch.Fix = "Check that this server can reach the service (proxy, firewall, DNS) and run the checks again."
			out = append(out, ch)
		}
	}
	ms := time.Since(start).Milliseconds()
	for i := range out {
		out[i].DurationMS = ms
	}
	return out
}

// publicURL checks that a URL the marketplace calls is https (outside the
// sandbox); the check fails with the fix otherwise.
func (c *Checker) publicURL(ch SetupCheck, where string, values ...SetupValue) SetupCheck {
	ch.Values = values
	if c.cfg.Sandbox || strings.HasPrefix(c.cfg.BaseURL, "https://") {
		ch.Status = OK
		ch.Message = "Enter " + plural(len(values), "this URL", "these URLs") + " in " + where + "."
		return ch
	}
	ch.Status = Fail
	ch.Message = "The base URL " + c.cfg.BaseURL + " is not https: " + where + " accepts only https addresses that reach this server from the internet."
	ch.Fix = "Set --base-url (MARKETGATE_BASE_URL) to the public https address of this server (behind a TLS-terminating proxy), then enter the URLs below in " + where + "."
	return ch
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// httpClient is the client of a config (default: 10 s timeout).
func httpClient(h *http.Client) *http.Client {
	if h != nil {
		return h
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// errText is an error's text, shortened for a message.
func errText(err error) string {
	var s string
	if err != nil {
		s = err.Error()
	}
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

var errStop = errors.New("stop")
