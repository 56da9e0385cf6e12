// Package jobs runs Marketgate's background work: every periodic loop
// (retries, polls, sweeps, sealing and sending metering records,
// deliveries) is a Job on one Runner, which schedules it, holds its lease
// when only one replica may run it at a time, counts its runs and
// failures in Prometheus, and runs it at once when nudged.
//
// Only the scheduling lives here; each job's work stays in its domain
// package.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Job is one piece of background work.
type Job struct {
	// Name identifies the job in logs, metrics and Nudge, and names its
	// lease (keep it stable: replicas of different versions share leases).
	Name string
	// Every is the time between the end of one run and the start of the
	// next. Zero: the next run starts as soon as one ends (a long poll that
	// waits inside Run).
	Every time.Duration
	// Delay is the wait before the first run. Zero: one interval (Every);
	// use Immediately to run at start.
	Delay time.Duration
	// Immediately runs the job once at start, before the first interval.
	Immediately bool
	// Lease, when set, makes the job run on one replica at a time: each run
	// first takes the lease named Name for this long (renewing it when this
	// replica holds it) and gives it up afterwards; a replica that does not
	// get it skips the run. Set it longer than a run can take.
	Lease time.Duration
	// Backoff, when set, is the wait after a failed run instead of Every,
	// doubling with each failure in a row up to a minute.
	Backoff time.Duration
	// Run does the work. An error counts as a failure and is logged; the
	// job runs again at its next tick.
	Run func(ctx context.Context) error
}

// Leases is what a leased job needs from the store (store.Store has it).
type Leases interface {
	TryLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Runner runs jobs until its context ends.
type Runner struct {
	leases Leases
	owner  string
	log    *slog.Logger

	mu      sync.Mutex
	jobs    map[string]*entry
	order   []*entry
	started bool
	wg      sync.WaitGroup

	runs, failures, skipped *prometheus.CounterVec
	lastDuration, lastOK    *prometheus.GaugeVec
}

type entry struct {
	Job
	nudge chan struct{}
}

// New returns a runner whose leased jobs hold their leases as owner (one
// name per process, unique across replicas). Its metrics are registered
// on reg (nil: not registered).
func New(leases Leases, owner string, reg prometheus.Registerer, log *slog.Logger) (*Runner, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{leases: leases, owner: owner, log: log, jobs: map[string]*entry{},
		// The label is job_name, not job: Prometheus's own job label (the
		// scrape target) would rename a job label to exported_job.
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_job_runs_total",
			Help: "Runs of each background job (failed ones included; runs skipped for another replica's lease not)."}, []string{"job_name"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_job_failures_total",
			Help: "Failed runs of each background job."}, []string{"job_name"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marketgate_job_skipped_total",
			Help: "Runs of each leased background job left to the replica that holds its lease."}, []string{"job_name"}),
		lastDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "marketgate_job_last_duration_seconds",
			Help: "How long each background job's last run took."}, []string{"job_name"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "marketgate_job_last_success_timestamp_seconds",
			Help: "When each background job last ran without an error (Unix time)."}, []string{"job_name"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{r.runs, r.failures, r.skipped, r.lastDuration, r.lastOK} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// Add adds a job; it starts with Start (or at once when the runner is
// running already).
func (r *Runner) Add(ctx context.Context, j Job) error {
	if j.Name == "" || j.Run == nil {
		return errors.New("jobs: a job needs a name and a run function")
	}
	if j.Every < 0 || j.Delay < 0 || j.Lease < 0 || j.Backoff < 0 {
		return fmt.Errorf("jobs: %s: negative interval", j.Name)
	}
	if j.Lease > 0 && r.leases == nil {
		return fmt.Errorf("jobs: %s: a leased job needs a runner with leases", j.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.jobs[j.Name]; dup {
		return fmt.Errorf("jobs: two jobs named %s", j.Name)
	}
	e := &entry{Job: j, nudge: make(chan struct{}, 1)}
	r.jobs[j.Name] = e
	r.order = append(r.order, e)
	// Every series exists from the start (0 runs), so alerts can use them.
	r.runs.WithLabelValues(j.Name)
	r.failures.WithLabelValues(j.Name)
	if r.started {
		r.launch(ctx, e)
	}
	return nil
}

// Start runs every job added so far, each in its own goroutine, until ctx
// ends. Wait waits for them to return.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	for _, e := range r.order {
		r.launch(ctx, e)
	}
}

func (r *Runner) launch(ctx context.Context, e *entry) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.loop(ctx, e)
	}()
}

// Wait returns when every job's goroutine has returned (after the context
// given to Start ended).
func (r *Runner) Wait() { r.wg.Wait() }

// Nudge asks the named job to run now rather than at its next tick (a run
// under way is followed by one more). It reports whether there is such a
// job. Nudges while one is pending are merged.
func (r *Runner) Nudge(name string) bool {
	r.mu.Lock()
	e := r.jobs[name]
	r.mu.Unlock()
	if e == nil {
		return false
	}
	select {
	case e.nudge <- struct{}{}:
	default:
	}
	return true
}

func (r *Runner) loop(ctx context.Context, e *entry) {
	wait := e.Every
	if e.Delay > 0 {
		wait = e.Delay
	}
	if e.Immediately {
		wait = 0
	}
	failed := 0
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.nudge:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := r.once(ctx, e); err != nil {
			failed++
		} else {
			failed = 0
		}
		wait = e.Every
		if failed > 0 && e.Backoff > 0 {
			wait = min(e.Backoff<<min(failed-1, 16), time.Minute)
		}
		t.Reset(wait)
	}
}

// once runs the job one time (under its lease, if it has one) and records
// how it went; a panic is a failure, not the end of the process.
func (r *Runner) once(ctx context.Context, e *entry) (err error) {
	if e.Lease > 0 {
		ok, lerr := r.leases.TryLease(ctx, e.Name, r.owner, e.Lease)
		if lerr != nil || !ok {
			if lerr != nil && ctx.Err() == nil {
				r.log.Warn("job: lease", "job", e.Name, "err", lerr)
			}
			r.skipped.WithLabelValues(e.Name).Inc()
			return nil
		}
		// The lease is held only while running: a replica that dies
		// mid-run blocks the others for one lease at most.
		defer func() { _ = r.leases.ReleaseLease(context.WithoutCancel(ctx), e.Name, r.owner) }()
	}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		r.runs.WithLabelValues(e.Name).Inc()
		r.lastDuration.WithLabelValues(e.Name).Set(time.Since(start).Seconds())
		switch {
		case err == nil:
			r.lastOK.WithLabelValues(e.Name).SetToCurrentTime()
		case ctx.Err() != nil:
			// stopping: not a failure of the job
		default:
			r.failures.WithLabelValues(e.Name).Inc()
			r.log.Error("job failed", "job", e.Name, "err", err)
		}
	}()
	return e.Run(ctx)
}
