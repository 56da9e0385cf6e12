package azurefake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metering rules (reference §7):
//
//	M1  one event per (resourceId, dimension, UTC hour of effectiveStartTime): 409 / Duplicate,
//	    carrying the originally accepted event in additionalInfo.acceptedMessage
//	M2  effectiveStartTime within the past 24 h (Expired); not in the future (BadArgument)
//	M3  quantity > 0 (InvalidQuantity)
//	M5  at most 25 events per batch (400)
//	M6  resourceId is a known subscription (ResourceNotFound); planId is its current plan
//	    (BadArgument); dimension is on that plan (InvalidDimension)
//	M7  the subscription is Subscribed (ResourceNotActive)

// inFlight follows the usage events (resourceId|dimension|hour) of calls
// not yet answered, to show whether a sender has one event in flight twice
// at once. It has its own lock: latency runs outside the marketplace's.
type inFlight struct {
	mu       sync.Mutex
	latency  func()
	now      map[string]int
	overlaps []string
	received map[string]int
}

// SetLatency makes every usageEvent and batchUsageEvent call run f once its
// request is read and before it is judged and answered, outside the
// marketplace's lock, while its events count as in flight: Microsoft's
// latency, as a test simulates it (advancing a fake clock, waiting a
// little).
func (m *Marketplace) SetLatency(f func()) {
	m.flight.mu.Lock()
	m.flight.latency = f
	m.flight.mu.Unlock()
}

// InFlightOverlaps lists the usage events (resourceId|dimension|hour) that
// arrived while the same event was still in flight in another call: two
// senders at once.
func (m *Marketplace) InFlightOverlaps() []string {
	m.flight.mu.Lock()
	defer m.flight.mu.Unlock()
	return append([]string(nil), m.flight.overlaps...)
}

// Received counts how often each usage event (resourceId|dimension|hour)
// arrived in a usageEvent or batchUsageEvent call, whatever the answer.
func (m *Marketplace) Received() map[string]int {
	m.flight.mu.Lock()
	defer m.flight.mu.Unlock()
	out := make(map[string]int, len(m.flight.received))
	for k, n := range m.flight.received {
		out[k] = n
	}
	return out
}

// usageKey names an event as M1 counts them; an unreadable time keeps its text.
func usageKey(in usageIn) string {
	res := in.ResourceID
	if res == "" {
		res = in.ResourceURI
	}
	hour := in.EffectiveStartTime
	if t, ok := parseTime(in.EffectiveStartTime); ok {
		hour = t.Truncate(time.Hour).Format(time.RFC3339)
	}
	return res + "|" + in.Dimension + "|" + hour
}

// arrive marks the events in flight, runs the latency, and returns the
// function that ends their flight (once answered).
func (m *Marketplace) arrive(evs []usageIn) func() {
	f := &m.flight
	keys := make([]string, len(evs))
	f.mu.Lock()
	if f.now == nil {
		f.now, f.received = map[string]int{}, map[string]int{}
	}
	for i, ev := range evs {
		keys[i] = usageKey(ev)
		if f.now[keys[i]] > 0 {
			f.overlaps = append(f.overlaps, keys[i])
		}
		f.now[keys[i]]++
		f.received[keys[i]]++
	}
	latency := f.latency
	f.mu.Unlock()
	if latency != nil {
		latency()
	}
	return func() {
		f.mu.Lock()
		for _, k := range keys {
			f.now[k]--
		}
		f.mu.Unlock()
	}
}

// UsageEvent is one accepted usage event.
type UsageEvent struct {
	UsageEventID, ResourceID, Dimension, PlanID string
	Quantity                                    float64
	EffectiveStartTime, MessageTime             time.Time
}

// Usage returns the accepted events, oldest first.
func (m *Marketplace) Usage() []UsageEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]UsageEvent, 0, len(m.usage))
	for _, e := range m.usage {
		out = append(out, *e)
	}
	return out
}

// float1 renders a double as Microsoft does: 5.0, not 5.
type float1 float64

func (f float1) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

type usageIn struct {
	ResourceID         string  `json:"resourceId"`
	ResourceURI        string  `json:"resourceUri"`
	Quantity           flexNum `json:"quantity"`
	Dimension          string  `json:"dimension"`
	EffectiveStartTime string  `json:"effectiveStartTime"`
	PlanID             string  `json:"planId"`
}

type usageOut struct {
	UsageEventID       string    `json:"usageEventId,omitempty"`
	Status             string    `json:"status"`
	MessageTime        string    `json:"messageTime"`
	ResourceID         string    `json:"resourceId"`
	Quantity           float1    `json:"quantity"`
	Dimension          string    `json:"dimension"`
	EffectiveStartTime string    `json:"effectiveStartTime"`
	PlanID             string    `json:"planId"`
	Error              *usageErr `json:"error,omitempty"`
}

type usageErr struct {
	AdditionalInfo *acceptedInfo `json:"additionalInfo,omitempty"`
	Message        string        `json:"message"`
	Target         string        `json:"target,omitempty"`
	Details        []usageErr    `json:"details,omitempty"`
	Code           string        `json:"code"`
}

type acceptedInfo struct {
	AcceptedMessage usageOut `json:"acceptedMessage"`
}

// verdict is the outcome of one event.
type verdict struct {
	status, message, target string
	out                     usageOut    // the echo of the request (or the accepted event)
	original                *UsageEvent // Duplicate: the event accepted first
}

const sentinelTime = "0001-01-01T00:00:00"

// parseTime accepts 0–7 fractional digits, with or without a zone, and bare
// dates (§3); a value without a zone is UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func eventOut(e *UsageEvent, status string) usageOut {
	return usageOut{UsageEventID: e.UsageEventID, Status: status, MessageTime: ts7(e.MessageTime), ResourceID: e.ResourceID,
		Quantity: float1(e.Quantity), Dimension: e.Dimension, EffectiveStartTime: e.EffectiveStartTime.Format(time.RFC3339), PlanID: e.PlanID}
}

// meterLocked validates one event and records it when accepted.
func (m *Marketplace) meterLocked(in usageIn, now time.Time) verdict {
	res := in.ResourceID
	if res == "" {
		res = in.ResourceURI
	}
	eff, effOK := parseTime(in.EffectiveStartTime)
	v := verdict{out: usageOut{ResourceID: res, Quantity: float1(in.Quantity.v), Dimension: in.Dimension,
		EffectiveStartTime: in.EffectiveStartTime, PlanID: in.PlanID, MessageTime: sentinelTime}}
	if effOK {
		v.out.EffectiveStartTime = eff.Format(time.RFC3339)
	}
	bad := func(status, target, msg string) verdict {
		v.status, v.target, v.message = status, target, msg
		return v
	}
	if f := eventRefusal(in, eff, effOK, now); f != nil {
		return bad(f.status, f.target, f.message)
	}
	s, f := m.resourceRefusalLocked(in, res)
	if f != nil {
		return bad(f.status, f.target, f.message)
	}
	p, _ := m.plan(s.OfferID, s.PlanID)
	found := false
	for _, d := range p.Dimensions {
		found = found || d == in.Dimension
	}
	if !found {
		return bad("InvalidDimension", "Dimension", "The dimension "+in.Dimension+" is not defined on plan "+s.PlanID+".")
	}
	key := res + "|" + in.Dimension + "|" + eff.Truncate(time.Hour).Format(time.RFC3339)
	if orig, dup := m.usageByKey[key]; dup {
		v = bad("Duplicate", "", "This usage event already exist.")
		v.original = orig
		return v
	}
	e := &UsageEvent{UsageEventID: newGUID(), ResourceID: res, Dimension: in.Dimension, PlanID: in.PlanID,
		Quantity: in.Quantity.v, EffectiveStartTime: eff, MessageTime: now}
	m.usage = append(m.usage, e)
	m.usageByKey[key] = e
	v.status, v.out = "Accepted", eventOut(e, "Accepted")
	return v
}

// usageRefusal is why one usage event is not accepted: its status, the
// field it concerns and the message.
type usageRefusal struct{ status, target, message string }

// eventRefusal checks the fields of a usage event on their own (§7.1),
// eff being its effectiveStartTime as parsed; nil when they pass.
func eventRefusal(in usageIn, eff time.Time, effOK bool, now time.Time) *usageRefusal {
	switch {
	case in.ResourceID == "" && in.ResourceURI == "":
		return &usageRefusal{"BadArgument", "ResourceId", "The resourceId is required."}
	case in.ResourceID != "" && in.ResourceURI != "":
		return &usageRefusal{"BadArgument", "ResourceId", "Only one of resourceId and resourceUri may be given."}
	case !in.Quantity.set || in.Quantity.bad:
		return &usageRefusal{"BadArgument", "Quantity", "The quantity is required and must be a number."}
	case in.Dimension == "":
		return &usageRefusal{"BadArgument", "Dimension", "The dimension is required."}
	case in.PlanID == "":
		return &usageRefusal{"BadArgument", "PlanId", "The planId is required."}
	case !effOK:
		return &usageRefusal{"BadArgument", "EffectiveStartTime", "The effectiveStartTime is required and must be an ISO 8601 date-time."}
	case in.Quantity.v <= 0:
		return &usageRefusal{"InvalidQuantity", "Quantity", "The quantity must be greater than 0."}
	case eff.Before(now.Add(-24 * time.Hour)):
		return &usageRefusal{"Expired", "EffectiveStartTime", "The effectiveStartTime is more than 24 hours in the past."}
	case eff.After(now.Add(5 * time.Minute)):
		return &usageRefusal{"BadArgument", "EffectiveStartTime", "The effectiveStartTime is in the future."}
	}
	return nil
}

// resourceRefusalLocked finds the subscription a usage event is for and
// checks that it is Subscribed on the event's plan.
func (m *Marketplace) resourceRefusalLocked(in usageIn, res string) (*subscription, *usageRefusal) {
	s, ok := m.subs[res]
	switch {
	case !ok:
		return nil, &usageRefusal{"ResourceNotFound", "ResourceId", "The resource " + res + " was not found."}
	case s.Status != StatusSubscribed:
		return nil, &usageRefusal{"ResourceNotActive", "ResourceId", "The resource is " + s.Status + ", not Subscribed."}
	case in.PlanID != s.PlanID:
		return nil, &usageRefusal{"BadArgument", "PlanId", "The planId " + in.PlanID + " is not the resource's current plan."}
	}
	return s, nil
}

// usageEvent: POST /usageEvent (§7.1).
func (m *Marketplace) usageEvent(w http.ResponseWriter, r *http.Request) {
	var in usageIn
	if err := decodeBody(r, &in); err != nil {
		writeJSONStatus(w, http.StatusBadRequest, badArgument("usageEventRequest", "The request body is not valid JSON.", "BadArgument"))
		return
	}
	defer m.arrive([]usageIn{in})()
	m.mu.Lock()
	v := m.meterLocked(in, m.now())
	m.mu.Unlock()
	switch v.status {
	case "Accepted":
		writeJSONStatus(w, http.StatusOK, v.out)
	case "Duplicate":
		writeJSONStatus(w, http.StatusConflict, usageErr{AdditionalInfo: &acceptedInfo{eventOut(v.original, "Duplicate")},
			Message: v.message, Code: "Conflict"})
	default:
		writeJSONStatus(w, http.StatusBadRequest, badArgument(v.target, v.message, v.status))
	}
}

// badArgument is the 400 body of §7.1, with the specific status as the detail's code.
func badArgument(target, message, code string) usageErr {
	return usageErr{Message: "One or more errors have occurred.", Target: "usageEventRequest",
		Details: []usageErr{{Message: message, Target: target, Code: code}}, Code: "BadArgument"}
}

// batchUsageEvent: POST /batchUsageEvent (§7.2): 1–25 events, each judged on
// its own (a 200 does not mean all were accepted).
func (m *Marketplace) batchUsageEvent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Request []json.RawMessage `json:"request"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeJSONStatus(w, http.StatusBadRequest, badArgument("batchUsageEventRequest", "The request body is not valid JSON.", "BadArgument"))
		return
	}
	if n := len(in.Request); n == 0 || n > 25 {
		writeJSONStatus(w, http.StatusBadRequest, badArgument("request", "A batch holds 1 to 25 usage events, not "+strconv.Itoa(n)+".", "BadArgument"))
		return
	}
	evs := make([]usageIn, len(in.Request))
	bad := make([]bool, len(in.Request))
	for i, raw := range in.Request {
		bad[i] = json.Unmarshal(raw, &evs[i]) != nil
	}
	defer m.arrive(evs)()
	m.mu.Lock()
	now := m.now()
	out := make([]usageOut, 0, len(in.Request))
	for i := range in.Request {
		ev := evs[i]
		var v verdict
		if bad[i] {
			v = verdict{status: "BadArgument", message: "The usage event is malformed.", out: usageOut{MessageTime: sentinelTime}}
		} else {
			v = m.meterLocked(ev, now)
		}
		item := v.out
		item.Status = v.status
		switch v.status {
		case "Accepted":
		case "Duplicate":
			item.Error = &usageErr{AdditionalInfo: &acceptedInfo{eventOut(v.original, "Duplicate")}, Message: v.message, Code: "Conflict"}
		default:
			item.Error = &usageErr{Message: v.message, Target: v.target, Code: v.status}
		}
		out = append(out, item)
	}
	m.mu.Unlock()
	writeJSONStatus(w, http.StatusOK, map[string]any{"count": len(out), "result": out})
}

// queryFold reads a query parameter case-insensitively (the doc writes
// usageStartDate but UsageEndDate).
func queryFold(r *http.Request, name string) string {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// usageEvents: GET /usageEvents?usageStartDate=… (§7.3), accepted usage
// summed per day, resource, dimension and plan.
func (m *Marketplace) usageEvents(w http.ResponseWriter, r *http.Request) {
	start, ok := parseTime(queryFold(r, "usageStartDate"))
	if !ok {
		writeJSONStatus(w, http.StatusBadRequest, badArgument("usageStartDate", "usageStartDate is required and must be an ISO 8601 date.", "BadArgument"))
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	end, ok := usageEnd(queryFold(r, "usageEndDate"), dateOf(m.now()).Add(24*time.Hour))
	if !ok {
		writeJSONStatus(w, http.StatusBadRequest, badArgument("usageEndDate", "usageEndDate must be an ISO 8601 date.", "BadArgument"))
		return
	}
	f := usageFilter{offer: queryFold(r, "offerId"), plan: queryFold(r, "planId"), dimension: queryFold(r, "dimension")}
	if rs := queryFold(r, "reconStatus"); rs != "" && !strings.EqualFold(rs, "Accepted") {
		writeJSONStatus(w, http.StatusOK, []any{})
		return
	}
	writeJSONStatus(w, http.StatusOK, m.usageRowsLocked(start, end, f))
}

// usageEnd is the end of the usageEvents window: usageEndDate when given
// (a bare date includes that day), else def.
func usageEnd(s string, def time.Time) (time.Time, bool) {
	if s == "" {
		return def, true
	}
	e, ok := parseTime(s)
	if !ok {
		return time.Time{}, false
	}
	if len(strings.TrimSpace(s)) == len(dateLayout) {
		return e.Add(24 * time.Hour), true // a bare end date includes that day
	}
	return e, true
}

// usageFilter is the optional filters of usageEvents ("" lets all through).
type usageFilter struct{ offer, plan, dimension string }

func (f usageFilter) keeps(s *subscription, e *UsageEvent) bool {
	return (f.offer == "" || s.OfferID == f.offer) && (f.plan == "" || e.PlanID == f.plan) && (f.dimension == "" || e.Dimension == f.dimension)
}

// usageRow is one row of the usageEvents answer.
type usageRow struct {
	UsageDate           string `json:"usageDate"`
	UsageResourceID     string `json:"usageResourceId"`
	Dimension           string `json:"dimension"`
	PlanID              string `json:"planId"`
	PlanName            string `json:"planName"`
	OfferID             string `json:"offerId"`
	OfferName           string `json:"offerName"`
	OfferType           string `json:"offerType"`
	AzureSubscriptionID string `json:"azureSubscriptionId"`
	ReconStatus         string `json:"reconStatus"`
	SubmittedQuantity   float1 `json:"submittedQuantity"`
	ProcessedQuantity   float1 `json:"processedQuantity"`
	SubmittedCount      int    `json:"submittedCount"`
	sortKey             string
	sum                 float64
}

// usageRowsLocked sums the accepted usage in [start, end) the filter keeps
// per day, resource, dimension and plan.
func (m *Marketplace) usageRowsLocked(start, end time.Time, f usageFilter) []*usageRow {
	rows := map[string]*usageRow{}
	for _, e := range m.usage {
		if e.EffectiveStartTime.Before(start) || !e.EffectiveStartTime.Before(end) {
			continue
		}
		s := m.subs[e.ResourceID]
		if !f.keeps(s, e) {
			continue
		}
		day := dateOf(e.EffectiveStartTime)
		k := day.Format(dateLayout) + "|" + e.ResourceID + "|" + e.Dimension + "|" + e.PlanID
		rw, ok := rows[k]
		if !ok {
			p, _ := m.plan(s.OfferID, e.PlanID)
			of := m.offers[s.OfferID]
			rw = &usageRow{UsageDate: day.Format("2006-01-02T15:04:05Z"), UsageResourceID: e.ResourceID, Dimension: e.Dimension,
				PlanID: e.PlanID, PlanName: p.DisplayName, OfferID: s.OfferID, OfferName: of.Name, OfferType: "SaaS",
				ReconStatus: "Accepted", sortKey: k}
			rows[k] = rw
		}
		rw.sum += e.Quantity
		rw.SubmittedQuantity, rw.ProcessedQuantity = float1(rw.sum), float1(rw.sum)
		rw.SubmittedCount++
	}
	out := make([]*usageRow, 0, len(rows))
	for _, rw := range rows {
		out = append(out, rw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sortKey < out[j].sortKey })
	return out
}
