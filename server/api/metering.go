package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	gojson "github.com/goccy/go-json"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
)

// usageEvent is one event as the seller's app sends it; decoded one at a
// time so a malformed event is rejected alone.
type usageEvent struct {
	ID           string          `json:"id"`
	Customer     string          `json:"customer"`
	Subscription json.RawMessage `json:"subscription"`
	Dimension    string          `json:"dimension"`
	Quantity     json.RawMessage `json:"quantity"`
	Timestamp    string          `json:"timestamp"`
}

// postUsage is POST /api/v1/usage: up to 1,000 events, one result each.
func (s *Server) postUsage(c *gin.Context) {
	if s.Meter == nil {
		s.failCode(c, apperr.Unavailable, "metering is not running")
		return
	}
	body, err := io.ReadAll(c.Request.Body) // at most 1 MiB (requestContext)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			s.failCode(c, apperr.TooLarge, "a usage batch is at most 1 MiB: split it")
			return
		}
		s.failCode(c, apperr.Invalid, "unreadable body")
		return
	}
	events, malformed, err := decodeUsage(bytes.TrimSpace(body), gojson.Unmarshal)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ingestAndAnswer(c, events, malformed)
}

// decodeUsage decodes a usage body: a well-formed batch in one pass with
// unmarshal, else event by event (decodeUsageEvents).
//
// The API passes goccy/go-json's Unmarshal: decoding was a seventh of the
// server's CPU time under batches, and goccy/go-json decodes a batch of
// 1,000 events in about a third of encoding/json's time. It differs at
// the edges: it takes numbers with leading zeros, keeps invalid UTF-8
// where encoding/json puts U+FFFD, and took the key "\u0069" ("i") for
// "id". So the fast pass is taken only by a body that encoding/json's own
// validator passes, all ASCII and without a backslash (what apps send:
// UUIDs, account ids, dimension keys); any other body goes through
// encoding/json alone, in one pass when it is a well-formed batch. The
// checks and goccy/go-json together take 0.6 of encoding/json's time
// (BenchmarkDecodeUsage). A fuzz test
// (FuzzUsageDecodersAgree) holds both paths to the same events, the same
// malformed ones and the same error.
func decodeUsage(trimmed []byte, unmarshal func([]byte, any) error) ([]metering.Event, map[int]string, error) {
	if !plainJSON(trimmed) || !json.Valid(trimmed) {
		// (A body with Japanese text or escapes still decodes in one
		// pass when well-formed, as before the fast pass.)
		unmarshal = json.Unmarshal
	}
	if events, malformed, ok := decodeUsageBatch(trimmed, unmarshal); ok {
		return events, malformed, nil
	}
	return decodeUsageEvents(trimmed)
}

// plainJSON reports whether a body is all ASCII, without a backslash.
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// decodeUsageBatch decodes a well-formed batch (an array of events or
// {"events": [...]}, 1 to MaxBatch of them) in one pass; false when it is
// not one, for decodeUsageEvents to look at each event alone.
func decodeUsageBatch(trimmed []byte, unmarshal func([]byte, any) error) ([]metering.Event, map[int]string, bool) {
	var typed []usageEvent
	var err error
	if len(trimmed) > 0 && trimmed[0] == '[' {
		err = unmarshal(trimmed, &typed)
	} else {
		var wrap struct {
			Events []usageEvent `json:"events"`
		}
		err = unmarshal(trimmed, &wrap)
		typed = wrap.Events
	}
	if err != nil || len(typed) == 0 || len(typed) > metering.MaxBatch {
		return nil, nil, false
	}
	events := make([]metering.Event, len(typed))
	malformed := map[int]string{}
	for i := range typed {
		events[i] = typed[i].event(i, malformed)
	}
	return events, malformed, true
}

// decodeUsageEvents decodes a batch event by event: a malformed event is
// noted (keeping its id when it has one) and the others go through. A body
// that is not a batch of 1 to MaxBatch events is an apperr.Invalid.
func decodeUsageEvents(trimmed []byte) ([]metering.Event, map[int]string, error) {
	var raws []json.RawMessage
	var err error
	if len(trimmed) > 0 && trimmed[0] == '[' {
		err = json.Unmarshal(trimmed, &raws)
	} else {
		var wrap struct {
			Events []json.RawMessage `json:"events"`
		}
		err = json.Unmarshal(trimmed, &wrap)
		raws = wrap.Events
	}
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, `send {"events":[{"id","customer" or "subscription","dimension","quantity","timestamp"}, …]}`)
	}
	if len(raws) == 0 || len(raws) > metering.MaxBatch {
		return nil, nil, apperr.New(apperr.Invalid, "a batch holds 1 to 1000 events, not %d", len(raws))
	}
	events := make([]metering.Event, len(raws))
	malformed := map[int]string{}
	for i, raw := range raws {
		var e usageEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			malformed[i] = "malformed event: " + err.Error()
			var id struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(raw, &id)
			events[i] = metering.Event{ID: id.ID}
			continue
		}
		events[i] = e.event(i, malformed)
	}
	return events, malformed, nil
}

// event converts one decoded event, noting what is malformed in it.
func (e *usageEvent) event(i int, malformed map[int]string) metering.Event {
	ev := metering.Event{ID: e.ID, Customer: e.Customer, Dimension: e.Dimension}
	if len(e.Subscription) > 0 && string(e.Subscription) != "null" {
		var sv string
		if json.Unmarshal(e.Subscription, &sv) != nil {
			sv = strings.TrimSpace(string(e.Subscription))
		}
		ev.Subscription = sv
	}
	if len(e.Quantity) > 0 {
		q, err := strconv.ParseFloat(string(e.Quantity), 64)
		if err != nil {
			malformed[i] = "quantity must be a number"
		}
		ev.Quantity = q
	}
	if e.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		if err != nil {
			malformed[i] = "timestamp must be RFC 3339, e.g. 2026-06-02T09:14:03Z"
		}
		ev.Timestamp = t
	}
	return ev
}

// ingestAndAnswer records the well-formed events and answers for all.
func (s *Server) ingestAndAnswer(c *gin.Context, events []metering.Event, malformed map[int]string) {
	// Malformed events are answered without being stored (and without their
	// id being taken); the others go through as one batch.
	var good []metering.Event
	var goodIdx []int
	for i, ev := range events {
		if _, bad := malformed[i]; !bad {
			good = append(good, ev)
			goodIdx = append(goodIdx, i)
		}
	}
	var keyID *uint
	if k, ok := c.Get(ctxAPIKey); ok {
		id := k.(*store.APIKey).ID
		keyID = &id
	}
	results := make([]metering.Result, len(events))
	if len(good) > 0 {
		res, err := s.Meter.Ingest(c.Request.Context(), keyID, "api", good)
		if err != nil {
			s.fail(c, err)
			return
		}
		for j, i := range goodIdx {
			results[i] = res[j]
		}
	}
	counts := map[string]int{}
	for i := range results {
		if reason, bad := malformed[i]; bad {
			results[i] = metering.Result{ID: events[i].ID, Status: store.UsageRejected, Reason: reason}
		}
		counts[results[i].Status]++
	}
	// Written by hand: a thousand results through reflection cost more than
	// storing them.
	buf := make([]byte, 0, 96*len(results)+80)
	buf = append(buf, `{"results":[`...)
	for i := range results {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendResult(buf, &results[i])
	}
	buf = append(buf, `],"accepted":`...)
	buf = strconv.AppendInt(buf, int64(counts[store.UsageAccepted]), 10)
	buf = append(buf, `,"duplicates":`...)
	buf = strconv.AppendInt(buf, int64(counts["duplicate"]), 10)
	buf = append(buf, `,"rejected":`...)
	buf = strconv.AppendInt(buf, int64(counts[store.UsageRejected]), 10)
	buf = append(buf, '}')
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf)
}

// appendResult writes one result as encoding/json would (same keys, same omissions).
func appendResult(b []byte, r *metering.Result) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, r.Status)
	if r.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, r.Reason)
	}
	if r.OriginalStatus != "" {
		b = append(b, `,"original_status":`...)
		b = appendJSONString(b, r.OriginalStatus)
	}
	if r.SubscriptionID != nil {
		b = append(b, `,"subscription_id":`...)
		b = strconv.AppendUint(b, uint64(*r.SubscriptionID), 10)
	}
	if r.Hour != nil {
		b = append(b, `,"hour":"`...)
		b = r.Hour.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	if r.Late {
		b = append(b, `,"late":true`...)
	}
	if r.Code != "" {
		b = append(b, `,"code":`...)
		b = appendJSONString(b, r.Code)
	}
	return append(b, '}')
}

// appendJSONString quotes s for JSON; plain ASCII goes straight through.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// manualUsageInput is one usage figure entered in the portal.
type manualUsageInput struct {
	SubscriptionID uint    `json:"subscription_id"`
	Dimension      string  `json:"dimension"`
	Quantity       float64 `json:"quantity"`
	Timestamp      string  `json:"timestamp"` // RFC 3339; empty: now
}

// usageResultView is what became of one usage event.
type usageResultView struct {
	metering.Result
}

// manualUsageAnswer is the outcome of a manual usage entry.
type manualUsageAnswer struct {
	Result usageResultView `json:"result"`
}

// manualUsage is the portal's usage entry for sellers who do not call the API.
func (s *Server) manualUsage(c *gin.Context, in manualUsageInput) (manualUsageAnswer, error) {
	if s.Meter == nil {
		return manualUsageAnswer{}, apperr.New(apperr.Unavailable, "metering is not running")
	}
	ts := s.Now()
	if in.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, in.Timestamp)
		if err != nil {
			return manualUsageAnswer{}, apperr.New(apperr.Invalid, "timestamp must be RFC 3339")
		}
		ts = t
	}
	ev := metering.Event{ID: "manual-" + auth.RandomToken(16), Subscription: strconv.FormatUint(uint64(in.SubscriptionID), 10),
		Dimension: strings.TrimSpace(in.Dimension), Quantity: in.Quantity, Timestamp: ts}
	res, err := s.Meter.Ingest(c.Request.Context(), nil, "manual", []metering.Event{ev})
	if err != nil {
		return manualUsageAnswer{}, err
	}
	if res[0].Status != store.UsageAccepted {
		return manualUsageAnswer{}, apperr.New(apperr.Invalid, "%s", res[0].Reason)
	}
	s.audit(c, currentUser(c), "metering.manual_usage", "subscription", in.SubscriptionID, nil, in)
	return manualUsageAnswer{Result: usageResultView{res[0]}}, nil
}

// meteringHealthView counts the records that need attention.
type meteringHealthView struct {
	metering.Health
}

// meteringHealthAnswer is the metering page's health figures.
type meteringHealthAnswer struct {
	Health meteringHealthView `json:"health"`
}

func (s *Server) meteringHealth(c *gin.Context) (meteringHealthAnswer, error) {
	if s.Meter == nil {
		return meteringHealthAnswer{}, apperr.New(apperr.Unavailable, "metering is not running")
	}
	h, err := s.Meter.HealthNow(c.Request.Context())
	if err != nil {
		return meteringHealthAnswer{}, err
	}
	return meteringHealthAnswer{Health: meteringHealthView{h}}, nil
}

type meteringRecordView struct {
	ID                  uint       `json:"id"`
	SubscriptionID      uint       `json:"subscription_id"`
	Marketplace         string     `json:"marketplace"`
	Dimension           string     `json:"dimension"`
	Hour                time.Time  `json:"hour"`
	Quantity            float64    `json:"quantity"`
	Status              string     `json:"status"`
	MarketplaceRecordID string     `json:"marketplace_record_id,omitempty"`
	Reason              string     `json:"reason,omitempty"`
	Attempts            int        `json:"attempts"`
	NextAttemptAt       *time.Time `json:"next_attempt_at"`
	SentAt              *time.Time `json:"sent_at"`
	SettledAt           *time.Time `json:"settled_at"`
	Expiring            bool       `json:"expiring"`
}

// meteringRecordQuery names the records list's query parameters.
type meteringRecordQuery struct {
	Marketplace  string    `form:"marketplace"`
	Subscription uint      `form:"subscription"`
	Dimension    string    `form:"dimension"`
	Status       string    `form:"status"`   // comma-separated statuses
	Expiring     string    `form:"expiring"` // true: pending records near their deadline
	From         time.Time `form:"from"`
	To           time.Time `form:"to"`
	Limit        int       `form:"limit"`
	Offset       int       `form:"offset"`
	Format       string    `form:"format"` // csv: the whole selection as a CSV file
}

// meteringRecordList is a page of hourly metering records.
type meteringRecordList struct {
	Items []meteringRecordView `json:"items"`
	// Total is how many match: exactly, or when total_capped is true more
	// than that (a selection by marketplace, subscription, customer,
	// dimension or expiry is counted up to 10,000, or to the end of the
	// page asked for).
	Total       int64 `json:"total"`
	TotalCapped bool  `json:"total_capped"`
	Limit       int   `json:"limit"`
	Offset      int   `json:"offset"`
}

// listRecords is the table of hourly records (JSON), or with format=csv
// the whole selection as a CSV file, written by the handler itself.
func (s *Server) listRecords(c *gin.Context) (meteringRecordList, error) {
	p := params{c: c}
	f := store.RecordFilter{
		CustomerID:     customerScope(currentUser(c)),
		Marketplace:    p.oneOf("marketplace", []string{"aws", "azure"}),
		SubscriptionID: p.id("subscription"),
		Dimension:      p.text("dimension", 256),
		Statuses:       p.list("status", store.RecordStatuses),
	}
	expiring := p.oneOf("expiring", []string{"true", "false"}) == "true"
	f.From, f.To = p.time("from"), p.time("to")
	csvOut := c.Query("format") == "csv"
	f.Limit = p.intRange("limit", 100, 1, 1000)
	f.Offset = p.intRange("offset", 0, 0, maxOffset)
	if p.err != nil {
		return meteringRecordList{}, p.err
	}
	if expiring {
		// Pending, its deadline (24 hours, or AWS's month-end cutoff) near.
		f.Expiring, f.ExpiringArgs = metering.ExpiringBy(s.Now())
	}
	if csvOut {
		f.Limit, f.Offset, f.NoTotal = maxOffset, 0, true // the whole selection
	}
	page, err := s.Store.ListRecords(c.Request.Context(), f)
	if err != nil {
		return meteringRecordList{}, err
	}
	now := s.Now()
	views := make([]meteringRecordView, 0, len(page.Items))
	for _, r := range page.Items {
		views = append(views, meteringRecordView{r.ID, r.SubscriptionID, r.Marketplace, r.Dimension, r.Hour, r.Quantity, r.Status,
			r.MarketplaceRecordID, r.Reason, r.Attempts, r.NextAttemptAt, r.SentAt, r.SettledAt,
			r.Status == store.RecordPending && metering.Expiring(r.Marketplace, r.Hour, now)})
	}
	if csvOut {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="metering-records.csv"`)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"id", "subscription_id", "marketplace", "dimension", "hour", "quantity", "status", "marketplace_record_id", "reason", "attempts"})
		for _, v := range views {
			_ = w.Write([]string{strconv.FormatUint(uint64(v.ID), 10), strconv.FormatUint(uint64(v.SubscriptionID), 10), v.Marketplace, csvSafe(v.Dimension),
				v.Hour.Format(time.RFC3339), strconv.FormatFloat(v.Quantity, 'f', -1, 64), v.Status, csvSafe(v.MarketplaceRecordID), csvSafe(v.Reason), strconv.Itoa(v.Attempts)})
		}
		w.Flush()
		return meteringRecordList{}, nil
	}
	return meteringRecordList{Items: views, Total: page.Total, TotalCapped: page.TotalCapped, Limit: f.Limit, Offset: f.Offset}, nil
}

// meteringRecordIDs names metering records.
type meteringRecordIDs struct {
	IDs []uint `json:"ids"`
}

// meteringRecordsRetried is how many records a retry queued.
type meteringRecordsRetried struct {
	Retried int64 `json:"retried"`
}

// retryRecords sends waiting or rejected records again now.
func (s *Server) retryRecords(c *gin.Context, in meteringRecordIDs) (meteringRecordsRetried, error) {
	if s.Meter == nil {
		return meteringRecordsRetried{}, apperr.New(apperr.Unavailable, "metering is not running")
	}
	if len(in.IDs) == 0 || len(in.IDs) > 1000 {
		return meteringRecordsRetried{}, apperr.New(apperr.Invalid, "ids: 1 to 1000 record ids")
	}
	n, err := s.Meter.Retry(c.Request.Context(), in.IDs)
	if err != nil {
		return meteringRecordsRetried{}, err
	}
	s.audit(c, currentUser(c), "metering.retry", "records", 0, nil, in)
	return meteringRecordsRetried{Retried: n}, nil
}
