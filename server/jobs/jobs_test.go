package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marketgate/marketgate/server/jobs"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// hang guards a test that would otherwise wait forever; it asserts
// nothing about how long anything took.
const hang = 30 * time.Second

func newRunner(t *testing.T, leases jobs.Leases, owner string) (*jobs.Runner, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := jobs.New(leases, owner, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

func start(t *testing.T, r *jobs.Runner) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	t.Cleanup(func() { cancel(); r.Wait() })
	return cancel
}

func receive(t *testing.T, c <-chan int, what string) int {
	t.Helper()
	select {
	case n := <-c:
		return n
	case <-time.After(hang):
		t.Fatalf("%s never happened", what)
		return 0
	}
}

func counter(t *testing.T, r *jobs.Runner, reg *prometheus.Registry, metric, job string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "job_name" && l.GetValue() == job {
					if m.Counter != nil {
						return m.Counter.GetValue()
					}
					return m.Gauge.GetValue()
				}
			}
		}
	}
	return -1
}

func TestJobRunsAgainEveryInterval(t *testing.T) {
	r, reg := newRunner(t, nil, "a")
	ran := make(chan int, 100)
	var n atomic.Int32
	if err := r.Add(context.Background(), jobs.Job{Name: "tick", Every: time.Millisecond, Run: func(context.Context) error {
		ran <- int(n.Add(1))
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	start(t, r)
	// The runner counts a run once it returns, before it starts the next:
	// the fourth run's start is when the third is surely counted.
	for want := 1; want <= 4; want++ {
		if got := receive(t, ran, "a run"); got != want {
			t.Fatalf("run %d reported as %d", want, got)
		}
	}
	if got := counter(t, r, reg, "marketgate_job_runs_total", "tick"); got < 3 {
		t.Fatalf("marketgate_job_runs_total{job=tick} = %v, want at least 3", got)
	}
	if got := counter(t, r, reg, "marketgate_job_last_success_timestamp_seconds", "tick"); got <= 0 {
		t.Fatalf("no last success recorded: %v", got)
	}
}

func TestNudgeRunsAJobBeforeItsInterval(t *testing.T) {
	r, _ := newRunner(t, nil, "a")
	ran := make(chan int, 10)
	if err := r.Add(context.Background(), jobs.Job{Name: "hourly", Every: time.Hour, Run: func(context.Context) error {
		ran <- 1
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	start(t, r)
	select {
	case <-ran:
		t.Fatal("an hourly job without Immediately ran at start")
	default:
	}
	if !r.Nudge("hourly") {
		t.Fatal("Nudge did not find the job")
	}
	receive(t, ran, "the nudged run")
	if r.Nudge("no-such-job") {
		t.Fatal("Nudge found a job that was never added")
	}
}

func TestImmediatelyRunsAtStart(t *testing.T) {
	r, _ := newRunner(t, nil, "a")
	ran := make(chan int, 10)
	if err := r.Add(context.Background(), jobs.Job{Name: "boot", Every: time.Hour, Immediately: true, Run: func(context.Context) error {
		ran <- 1
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	start(t, r)
	receive(t, ran, "the first run at start")
}

func TestFailedRunIsCountedAndRetriedAtTheNextTick(t *testing.T) {
	r, reg := newRunner(t, nil, "a")
	ran := make(chan int, 100)
	var n atomic.Int32
	if err := r.Add(context.Background(), jobs.Job{Name: "flaky", Every: time.Millisecond, Run: func(context.Context) error {
		i := int(n.Add(1))
		ran <- i
		if i == 1 {
			return errors.New("the marketplace is down")
		}
		if i == 2 {
			panic("a bug")
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	start(t, r)
	receive(t, ran, "the failing run")
	receive(t, ran, "the panicking run")
	receive(t, ran, "the retry after two failures")
	if got := counter(t, r, reg, "marketgate_job_failures_total", "flaky"); got != 2 {
		t.Fatalf("marketgate_job_failures_total{job=flaky} = %v, want 2 (an error and a panic)", got)
	}
}

func TestRunnerStopsWhenTheContextEnds(t *testing.T) {
	r, _ := newRunner(t, nil, "a")
	started := make(chan int, 1)
	if err := r.Add(context.Background(), jobs.Job{Name: "long", Immediately: true, Every: time.Hour, Run: func(ctx context.Context) error {
		started <- 1
		<-ctx.Done() // a long poll
		return ctx.Err()
	}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	receive(t, started, "the run")
	cancel()
	done := make(chan int)
	go func() { r.Wait(); close(done) }()
	receive(t, done, "the runner's stop")
}

func TestAddRefusesBadJobs(t *testing.T) {
	r, _ := newRunner(t, nil, "a")
	ok := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name string
		job  jobs.Job
	}{
		{"no name", jobs.Job{Every: time.Second, Run: ok}},
		{"no run", jobs.Job{Name: "x", Every: time.Second}},
		{"negative interval", jobs.Job{Name: "x", Every: -time.Second, Run: ok}},
		{"lease without leases", jobs.Job{Name: "x", Every: time.Second, Lease: time.Minute, Run: ok}},
	} {
		if err := r.Add(context.Background(), tc.job); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := r.Add(context.Background(), jobs.Job{Name: "x", Every: time.Second, Run: ok}); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(context.Background(), jobs.Job{Name: "x", Every: time.Second, Run: ok}); err == nil {
		t.Error("a second job named x was accepted")
	}
}

// Two replicas share the database: a leased job runs on one of them at a
// time. While replica A is inside a run (holding the lease), replica B's
// run is skipped; once A is done, B runs it.
func TestLeasedJobRunsOnOneReplicaAtATime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a, _ := newRunner(t, st, "replica-a")
		b, regB := newRunner(t, st, "replica-b")
		inA, releaseA := make(chan int, 1), make(chan struct{})
		ranB := make(chan int, 10)
		job := func(run func(context.Context) error) jobs.Job {
			return jobs.Job{Name: "sweep", Every: time.Hour, Lease: time.Minute, Run: run}
		}
		if err := a.Add(context.Background(), job(func(context.Context) error {
			inA <- 1
			<-releaseA
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(context.Background(), job(func(context.Context) error {
			ranB <- 1
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		start(t, a)
		start(t, b)
		a.Nudge("sweep")
		receive(t, inA, "replica A's run")
		for i := 1; i <= 3; i++ {
			b.Nudge("sweep")
			deadline := time.Now().Add(hang)
			for counter(t, b, regB, "marketgate_job_skipped_total", "sweep") < float64(i) {
				if time.Now().After(deadline) {
					t.Fatal("replica B's nudged run never happened")
				}
				time.Sleep(time.Millisecond)
				select {
				case <-ranB:
					t.Fatal("replica B ran the job while replica A held its lease")
				default:
				}
			}
		}
		if got := counter(t, b, regB, "marketgate_job_runs_total", "sweep"); got != 0 {
			t.Fatalf("replica B counted %v runs while A held the lease", got)
		}
		close(releaseA)
		// A gives the lease up after its run; B gets it at its next nudge.
		deadline := time.Now().Add(hang)
		for time.Now().Before(deadline) {
			b.Nudge("sweep")
			select {
			case <-ranB:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		t.Fatal("replica B never ran the job after replica A gave its lease up")
	})
}
