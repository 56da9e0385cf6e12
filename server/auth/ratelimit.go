package auth

import (
	"sync"
	"time"
)

// Limiter counts sign-in attempts per key (an IP, an account) in a sliding
// window and refuses once a key has used its allowance.
type Limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string][]time.Time
	now    func() time.Time
}

// NewLimiter allows max attempts per key per window.
func NewLimiter(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, hits: map[string][]time.Time{}, now: now}
}

// Allow records an attempt for key and reports whether it is within the
// allowance; when not, it says how long until the next one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h := l.prune(key, now)
	if len(h) >= l.max {
		return false, h[0].Add(l.window).Sub(now)
	}
	l.hits[key] = append(h, now)
	if len(l.hits) > 100000 { // bound memory under a flood of keys
		l.sweep(now)
	}
	return true, 0
}

// Reset forgets a key (after a successful sign-in for an account).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.hits, key)
	l.mu.Unlock()
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	h := l.hits[key]
	i := 0
	for i < len(h) && now.Sub(h[i]) >= l.window {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(l.hits, key)
	}
	return h
}

func (l *Limiter) sweep(now time.Time) {
	for k := range l.hits {
		l.prune(k, now)
	}
}
