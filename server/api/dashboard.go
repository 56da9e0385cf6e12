package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/store"
)

// The dashboard: subscriptions by marketplace and state, seats, new and
// ended subscriptions per day, the latest events and (seller staff) the
// inbox's and metering's health. Customer admins see their own only.

// stateCount is one cell of the dashboard's table.
type stateCount struct {
	Marketplace string `json:"marketplace"`
	State       string `json:"state"`
	Count       int64  `json:"count"`
}

// dashboardSeatsView are the seats sold (the quantities of live per-user
// subscriptions) and assigned on them.
type dashboardSeatsView struct {
	Sold     int64 `json:"sold"`
	Assigned int64 `json:"assigned"`
}

// dayCount is how many things happened on one day (YYYY-MM-DD, UTC).
type dayCount struct {
	Day string `json:"day"`
	N   int64  `json:"count"`
}

// recentEventView is one of the latest timeline events.
type recentEventView struct {
	ID             uint      `json:"id"`
	SubscriptionID uint      `json:"subscription_id"`
	At             time.Time `json:"at"`
	Kind           string    `json:"kind"`
	Summary        string    `json:"summary"`
	ToState        string    `json:"to_state"`
}

// dashboardView is the dashboard's figures.
type dashboardView struct {
	ByState       []stateCount       `json:"by_state"`
	Total         int64              `json:"total"`
	Customers     int64              `json:"customers"` // 1 for a customer admin
	Seats         dashboardSeatsView `json:"seats"`
	CreatedPerDay []dayCount         `json:"created_per_day"` // the last 30 days, oldest first
	EndedPerDay   []dayCount         `json:"ended_per_day"`
	RecentEvents  []recentEventView  `json:"recent_events"` // the latest 10
	// Seller staff only.
	InboxFailed *int64 `json:"inbox_failed,omitempty"`
	// Seller staff only, when metering runs: its last health figures.
	Metering *meteringHealthView `json:"metering,omitempty"`
}

func dayCounts(in []store.DayCount) []dayCount {
	out := make([]dayCount, len(in))
	for i, d := range in {
		out[i] = dayCount{d.Day, d.Count}
	}
	return out
}

func (s *Server) dashboard(c *gin.Context) (dashboardView, error) {
	ctx, scope := c.Request.Context(), customerScope(currentUser(c))
	counts, err := s.Store.CountByState(ctx, scope)
	if err != nil {
		return dashboardView{}, err
	}
	out := dashboardView{ByState: make([]stateCount, 0, len(counts)), Customers: 1}
	for _, sc := range counts {
		out.ByState = append(out.ByState, stateCount{sc.Marketplace, sc.State, sc.Count})
		out.Total += sc.Count
	}
	if scope == 0 {
		if out.Customers, err = s.Store.CountCustomers(ctx); err != nil {
			return dashboardView{}, err
		}
	}
	since := s.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -29)
	f, err := s.Store.Dashboard(ctx, scope, since, 30)
	if err != nil {
		return dashboardView{}, err
	}
	out.Seats = dashboardSeatsView{Sold: f.SeatsSold, Assigned: f.SeatsAssigned}
	out.CreatedPerDay, out.EndedPerDay = dayCounts(f.Created), dayCounts(f.Ended)
	out.RecentEvents = make([]recentEventView, 0, len(f.Recent))
	for _, e := range f.Recent {
		out.RecentEvents = append(out.RecentEvents, recentEventView(e))
	}
	if scope == 0 {
		out.InboxFailed = &f.InboxFailed
		if s.Meter != nil {
			out.Metering = &meteringHealthView{s.Meter.LastHealth()}
		}
	}
	return out, nil
}
