package api

import (
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
)

// A subscription's usage report: per dimension of its plan, every hour or
// day of a period (empty ones too, at zero), the usage the seller's app
// reported and what the metering records sent to the marketplace hold, by
// record status. The same selection as a CSV file with format=csv.

// The longest period one report covers, per granularity.
const (
	maxUsageHours = 31 * 24
	maxUsageDays  = 400
)

// usageStatusView is what a dimension's metering records in one status hold.
type usageStatusView struct {
	Status   string  `json:"status"`   // a metering record status (pending, accepted, rejected, expired, not_sent_zero, ...)
	Records  int64   `json:"records"`  // how many hourly records
	Quantity float64 `json:"quantity"` // their quantity
}

// usageAmounts is one bucket's (or a whole period's) figures.
type usageAmounts struct {
	Used     float64           `json:"used"`     // usage the seller's app reported (accepted events)
	Sent     float64           `json:"sent"`     // in records sent, or being sent, to the marketplace (every status but not_sent_*)
	Accepted float64           `json:"accepted"` // in records the marketplace accepted
	Statuses []usageStatusView `json:"statuses"` // the records by status, in the order of store.RecordStatuses
}

// usageBucketView is one hour or day of a dimension.
type usageBucketView struct {
	At time.Time `json:"at"` // the bucket's start (UTC)
	usageAmounts
}

// usageDimensionView is one dimension of the report.
type usageDimensionView struct {
	Key     string            `json:"key"`
	Name    string            `json:"name"` // the plan's name for it (the key when it has none)
	Unit    string            `json:"unit"`
	Metered bool              `json:"metered"` // the plan meters it (false: no longer on the plan, usage from before)
	Total   usageAmounts      `json:"total"`
	Buckets []usageBucketView `json:"buckets"`
}

// usageSeriesView is a subscription's usage report over a period.
type usageSeriesView struct {
	SubscriptionID uint                 `json:"subscription_id"`
	Marketplace    string               `json:"marketplace"`
	Granularity    string               `json:"granularity"` // hour or day
	From           time.Time            `json:"from"`        // the period, from inclusive
	To             time.Time            `json:"to"`          // to exclusive; buckets stop at the current hour or day
	Metered        bool                 `json:"metered"`     // the plan meters at least one dimension
	Dimensions     []usageDimensionView `json:"dimensions"`
}

// usageSeriesQuery names the usage report's query parameters.
type usageSeriesQuery struct {
	Granularity string    `form:"granularity"` // hour (default) or day
	From        time.Time `form:"from"`        // RFC 3339; default: the start of the current billing period (the calendar month, UTC)
	To          time.Time `form:"to"`          // RFC 3339, exclusive; default: the end of the billing period from starts in
	Format      string    `form:"format"`      // csv: the same report as a CSV file
}

// usagePeriod settles a report's period: the current calendar month (UTC)
// by default, widened to whole buckets, at most maxUsageHours hours or
// maxUsageDays days.
func usagePeriod(now, from, to time.Time, unit time.Duration) (time.Time, time.Time, error) {
	if from.IsZero() {
		ref := now.UTC()
		if !to.IsZero() {
			ref = to.UTC().Add(-time.Nanosecond)
		}
		from = time.Date(ref.Year(), ref.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	from = from.UTC().Truncate(unit)
	if to.IsZero() {
		to = time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t := to.UTC().Truncate(unit); t.Before(to) {
		to = t.Add(unit)
	} else {
		to = t
	}
	if !to.After(from) {
		return from, to, apperr.New(apperr.Invalid, "to must be after from")
	}
	if unit == time.Hour && to.Sub(from) > maxUsageHours*time.Hour {
		return from, to, apperr.New(apperr.PeriodTooLong, "hourly usage covers at most 31 days: choose a shorter period or daily usage")
	}
	if unit != time.Hour && to.Sub(from) > maxUsageDays*24*time.Hour {
		return from, to, apperr.New(apperr.PeriodTooLong, "daily usage covers at most 400 days: choose a shorter period")
	}
	return from, to, nil
}

// usageSeries is GET /api/subscriptions/:id/usage: the usage report as
// JSON, or with format=csv as a CSV file.
func (s *Server) usageSeries(c *gin.Context) (usageSeriesView, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return usageSeriesView{}, err
	}
	p := params{c: c}
	granularity := p.oneOf("granularity", []string{"hour", "day"})
	from, to := p.time("from"), p.time("to")
	csvOut := p.oneOf("format", []string{"csv", "json"}) == "csv"
	if p.err != nil {
		return usageSeriesView{}, p.err
	}
	unit := time.Hour
	if granularity == "day" {
		unit = 24 * time.Hour
	} else {
		granularity = "hour"
	}
	now := s.Now()
	from, to, err = usagePeriod(now, from, to, unit)
	if err != nil {
		return usageSeriesView{}, err
	}
	rep, err := s.Store.SubscriptionUsage(c.Request.Context(), id, customerScope(currentUser(c)), from, to)
	if err != nil {
		return usageSeriesView{}, err
	}
	// Buckets stop at the one holding now: later ones have not happened.
	end := to
	if cur := now.UTC().Truncate(unit).Add(unit); cur.Before(end) {
		end = cur
	}
	v := buildUsageReport(rep, from, end, unit)
	v.Granularity, v.From, v.To = granularity, from, to
	if csvOut {
		writeUsageCSV(c, v)
		return usageSeriesView{}, nil
	}
	return v, nil
}

// usageDim accumulates one dimension's buckets.
type usageDim struct {
	view     *usageDimensionView
	statuses []map[string]*usageStatusView // per bucket
	total    map[string]*usageStatusView
}

// usageBuilder lays a report's hours out in n buckets of unit from from.
type usageBuilder struct {
	from  time.Time
	unit  time.Duration
	n     int
	dims  map[string]*usageDim
	order []string
	extra []string // dimensions not metered by the plan
}

// dim returns a dimension's accumulator, adding it (not metered) when new.
func (b *usageBuilder) dim(d store.Dimension, metered bool) *usageDim {
	if x, ok := b.dims[d.Key]; ok {
		return x
	}
	name := d.Name
	if name == "" {
		name = d.Key
	}
	dv := &usageDimensionView{Key: d.Key, Name: name, Unit: d.Unit, Metered: metered, Buckets: make([]usageBucketView, b.n)}
	for i := range dv.Buckets {
		dv.Buckets[i] = usageBucketView{At: b.from.Add(time.Duration(i) * b.unit), usageAmounts: usageAmounts{Statuses: []usageStatusView{}}}
	}
	x := &usageDim{view: dv, statuses: make([]map[string]*usageStatusView, b.n), total: map[string]*usageStatusView{}}
	b.dims[d.Key] = x
	if metered {
		b.order = append(b.order, d.Key)
	} else {
		b.extra = append(b.extra, d.Key)
	}
	return x
}

// bucket is the index of the bucket holding hour h, -1 when outside.
func (b *usageBuilder) bucket(h time.Time) int {
	if h.Before(b.from) {
		return -1
	}
	if i := int(h.UTC().Sub(b.from) / b.unit); i < b.n {
		return i
	}
	return -1
}

// buildUsageReport lays the report's hours out in buckets of unit from
// from until end: the plan's metered dimensions first (in its order),
// then, by key, any other dimension with usage or records in the period.
func buildUsageReport(rep *store.UsageReport, from, end time.Time, unit time.Duration) usageSeriesView {
	sub := rep.Subscription
	v := usageSeriesView{SubscriptionID: sub.ID, Marketplace: sub.Marketplace, Dimensions: []usageDimensionView{}}
	b := &usageBuilder{from: from, unit: unit, dims: map[string]*usageDim{}}
	if end.After(from) {
		b.n = int(end.Sub(from) / unit)
	}
	for _, d := range metering.MeteredDimensions(sub.Plan, sub.Offer != nil && sub.Offer.Contract) {
		b.dim(d, true)
		v.Metered = true
	}
	for _, u := range rep.Usage {
		d := b.dim(store.Dimension{Key: u.Dimension}, false)
		d.view.Total.Used += u.Quantity
		if i := b.bucket(u.Hour); i >= 0 {
			d.view.Buckets[i].Used += u.Quantity
		}
	}
	for _, r := range rep.Records {
		d := b.dim(store.Dimension{Key: r.Dimension}, false)
		addStatus(d.total, &d.view.Total, r)
		if i := b.bucket(r.Hour); i >= 0 {
			if d.statuses[i] == nil {
				d.statuses[i] = map[string]*usageStatusView{}
			}
			addStatus(d.statuses[i], &d.view.Buckets[i].usageAmounts, r)
		}
	}
	sort.Strings(b.extra)
	for _, key := range append(b.order, b.extra...) {
		d := b.dims[key]
		d.view.Total.Statuses = statusList(d.total)
		for i := range d.view.Buckets {
			d.view.Buckets[i].Statuses = statusList(d.statuses[i])
		}
		v.Dimensions = append(v.Dimensions, *d.view)
	}
	return v
}

// addStatus counts one group of records into a bucket's (or the total's) figures.
func addStatus(by map[string]*usageStatusView, a *usageAmounts, r store.RecordHour) {
	sv := by[r.Status]
	if sv == nil {
		sv = &usageStatusView{Status: r.Status}
		by[r.Status] = sv
	}
	sv.Records += r.Records
	sv.Quantity += r.Quantity
	if r.Status != store.RecordNotSentZero && r.Status != store.RecordNotActive {
		a.Sent += r.Quantity
	}
	if r.Status == store.RecordAccepted {
		a.Accepted += r.Quantity
	}
}

// statusList lists the statuses present, in the order of store.RecordStatuses.
func statusList(by map[string]*usageStatusView) []usageStatusView {
	out := []usageStatusView{}
	for _, st := range store.RecordStatuses {
		if sv := by[st]; sv != nil {
			out = append(out, *sv)
		}
	}
	return out
}

// writeUsageCSV writes the report as CSV: one row per dimension and bucket,
// the quantity of each record status in its own column.
func writeUsageCSV(c *gin.Context, v usageSeriesView) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="usage-%d-%s-%s.csv"`, v.SubscriptionID, v.From.Format("20060102"), v.Granularity))
	w := csv.NewWriter(c.Writer)
	head := []string{"dimension", "name", "unit", "granularity", "start_utc", "used", "sent", "accepted"}
	for _, st := range store.RecordStatuses {
		head = append(head, "records_"+st)
	}
	_ = w.Write(head)
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	for _, d := range v.Dimensions {
		for _, b := range d.Buckets {
			row := []string{csvSafe(d.Key), csvSafe(d.Name), csvSafe(d.Unit), v.Granularity, b.At.Format(time.RFC3339), num(b.Used), num(b.Sent), num(b.Accepted)}
			for _, st := range store.RecordStatuses {
				q := 0.0
				for _, sv := range b.Statuses {
					if sv.Status == st {
						q = sv.Quantity
					}
				}
				row = append(row, num(q))
			}
			_ = w.Write(row)
		}
	}
	w.Flush()
}
