package azurefake

import "time"

// outage is a period during which every call of a route fails with one
// HTTP status and body: Microsoft unavailable for a while (reference
// §7.2: "Retry only transport failures, 5xx and Error items"), as a
// sandbox story or a test tells it on the fake's clock.
type outage struct {
	route       string
	inj         injected
	from, until time.Time
}

// FailBetween makes every call of route (as FailNext names them, e.g.
// "batchUsageEvent") answer status and body while the fake's clock is in
// [from, until).
func (m *Marketplace) FailBetween(route string, status int, body string, from, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outages = append(m.outages, outage{route: route, inj: injected{status, body}, from: from, until: until})
}

// outageLocked is what an outage answers route with now (nil: none).
func (m *Marketplace) outageLocked(route string) *injected {
	now := m.now()
	for i := range m.outages {
		o := &m.outages[i]
		if o.route == route && !now.Before(o.from) && now.Before(o.until) {
			return &o.inj
		}
	}
	return nil
}
