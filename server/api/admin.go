package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/marketgate/marketgate/store"
)

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if v == x {
			return true
		}
	}
	return false
}

// dashboardMore is the rest of the dashboard: seats sold and assigned,
// new and ended subscriptions per day (30 days), inbox and metering
// health, and the latest events. Customer admins see their own only.
func (s *Server) dashboardMore(c *gin.Context, scope uint) (gin.H, error) {
	db := s.Store.R.WithContext(c.Request.Context())
	subs := func() *gorm.DB {
		q := db.Table("subscriptions s")
		if scope != 0 {
			q = q.Where("s.customer_id = ?", scope)
		}
		return q
	}
	var sold struct{ N int64 }
	if err := subs().Select("COALESCE(SUM(s.quantity), 0) AS n").Joins("JOIN plans p ON p.id = s.plan_id").
		Where("p.seat_based AND s.state IN ?", []string{"active", "unsubscribe_pending"}).Scan(&sold).Error; err != nil {
		return nil, err
	}
	var assigned int64
	aq := db.Table("seats x").Joins("JOIN subscriptions s ON s.id = x.subscription_id").Joins("JOIN plans p ON p.id = s.plan_id").
		Where("p.seat_based AND s.state IN ?", []string{"active", "unsubscribe_pending"})
	if scope != 0 {
		aq = aq.Where("s.customer_id = ?", scope)
	}
	if err := aq.Count(&assigned).Error; err != nil {
		return nil, err
	}
	since := s.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -29)
	type day struct {
		Day string `json:"day"`
		N   int64  `json:"count"`
	}
	perDay := func(col, state string) ([]day, error) {
		var times []time.Time
		q := subs().Where("s."+col+" >= ?", since)
		if state != "" {
			q = q.Where("s.state = ?", state)
		}
		if err := q.Pluck("s."+col, &times).Error; err != nil {
			return nil, err
		}
		counts := map[string]int64{}
		for _, t := range times {
			counts[t.UTC().Format("2006-01-02")]++
		}
		out := make([]day, 30)
		for i := range out {
			d := since.AddDate(0, 0, i).Format("2006-01-02")
			out[i] = day{d, counts[d]}
		}
		return out, nil
	}
	created, err := perDay("created_at", "")
	if err != nil {
		return nil, err
	}
	ended, err := perDay("state_changed_at", "ended")
	if err != nil {
		return nil, err
	}
	var recent []struct {
		ID             uint      `json:"id"`
		SubscriptionID uint      `json:"subscription_id"`
		At             time.Time `json:"at"`
		Kind           string    `json:"kind"`
		Summary        string    `json:"summary"`
		ToState        string    `json:"to_state"`
	}
	rq := db.Table("timeline_events t").Select("t.id, t.subscription_id, t.at, t.kind, t.summary, t.to_state").Order("t.at DESC, t.id DESC").Limit(10)
	if scope != 0 {
		rq = rq.Joins("JOIN subscriptions s ON s.id = t.subscription_id").Where("s.customer_id = ?", scope)
	}
	if err := rq.Scan(&recent).Error; err != nil {
		return nil, err
	}
	out := gin.H{"seats": gin.H{"sold": sold.N, "assigned": assigned}, "created_per_day": created, "ended_per_day": ended, "recent_events": recent}
	if scope == 0 {
		var failed int64
		if err := db.Model(&store.InboxMessage{}).Where("status = ?", store.InboxFailed).Count(&failed).Error; err != nil {
			return nil, err
		}
		out["inbox_failed"] = failed
		if s.Meter != nil {
			out["metering"] = s.Meter.LastHealth()
		}
	}
	return out, nil
}

// getCustomer is one organisation with its identities and counts.
func (s *Server) getCustomer(c *gin.Context) {
	cu, ok := byPathID[store.Customer](s, c, "customer")
	if !ok {
		return
	}
	db := s.Store.R.WithContext(c.Request.Context())
	var subs, active, admins int64
	for _, q := range []struct {
		n *int64
		q *gorm.DB
	}{
		{&subs, db.Model(&store.Subscription{}).Where("customer_id = ?", cu.ID)},
		{&active, db.Model(&store.Subscription{}).Where("customer_id = ? AND state IN ?", cu.ID, []string{"active", "unsubscribe_pending"})},
		{&admins, db.Model(&store.User{}).Where("customer_id = ? AND role = ? AND NOT disabled", cu.ID, store.RoleCustomerAdmin)},
	} {
		if err := q.q.Count(q.n).Error; err != nil {
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"customer": gin.H{"id": cu.ID, "name": cu.Name, "email": cu.Email, "aws_account_id": cu.AWSAccountID,
		"azure_tenant_id": cu.AzureTenantID, "created_at": cu.CreatedAt, "updated_at": cu.UpdatedAt,
		"subscriptions": subs, "active_subscriptions": active, "admins": admins}})
}
