package awsfake

import "time"

// outage is a period during which every call of an operation fails with
// one error code: AWS unavailable for a while (reference §4.3:
// InternalServiceErrorException, HTTP 5xx, throttling), as a sandbox story
// or a test tells it on the fake's clock.
type outage struct {
	op, code    string
	from, until time.Time
}

// FailBetween makes every call of operation (e.g. "BatchMeterUsage")
// answer code while the fake's clock is in [from, until).
func (m *Metering) FailBetween(operation, code string, from, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outages = append(m.outages, outage{op: operation, code: code, from: from, until: until})
}

// outageCodeLocked is the code an outage answers op with now ("" when none).
func (m *Metering) outageCodeLocked(op string) string {
	now := m.now()
	for _, o := range m.outages {
		if o.op == op && !now.Before(o.from) && now.Before(o.until) {
			return o.code
		}
	}
	return ""
}
