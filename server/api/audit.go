package api

import (
	"encoding/csv"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/store"
)

// The audit log (admins): who did what and when, with before and after
// values; filters, paging, CSV export. audit records an entry.

// audit records an action; a failure to record is logged, not shown.
func (s *Server) audit(c *gin.Context, actor *store.User, action, targetType string, targetID uint, before, after any) {
	e := &store.AuditEntry{Action: action, TargetType: targetType, TargetID: strconv.FormatUint(uint64(targetID), 10),
		RequestID: requestID(c), IP: ClientIP(c)}
	if actor != nil {
		e.ActorUserID, e.ActorEmail = &actor.ID, actor.Email
	}
	e.SetValues(before, after)
	if err := s.Store.Audit(c.Request.Context(), e); err != nil {
		s.Log.Error("audit write failed", "request_id", requestID(c), "action", action, "err", err)
	}
}

type auditView struct {
	ID         uint      `json:"id"`
	At         time.Time `json:"at"`
	ActorEmail string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	Before     string    `json:"before"`
	After      string    `json:"after"`
	RequestID  string    `json:"request_id"`
	IP         string    `json:"ip"`
}

// auditQuery filters the audit log; format=csv answers a CSV file of every
// matching entry instead of a page.
type auditQuery struct {
	Actor      string    `form:"actor"`
	Action     string    `form:"action"`
	TargetType string    `form:"target_type"`
	TargetID   string    `form:"target_id"`
	From       time.Time `form:"from"`
	To         time.Time `form:"to"`
	Limit      int       `form:"limit"`
	Offset     int       `form:"offset"`
	Format     string    `form:"format"`
}

// auditPage is a page of the audit log.
type auditPage struct {
	Items []auditView `json:"items"`
	// Total is how many match: exactly, or when total_capped is true more
	// than that (counting stops at 10,000, or at the end of the page asked
	// for when further: a next page exists).
	Total       int64 `json:"total"`
	TotalCapped bool  `json:"total_capped"`
	Limit       int   `json:"limit"`
	Offset      int   `json:"offset"`
}

// listAudit is the audit log: who did what and when, with before and
// after values; filters, paging, CSV export (written here; the answer is
// then empty).
func (s *Server) listAudit(c *gin.Context) (auditPage, error) {
	p := params{c: c}
	f := store.AuditFilter{
		Actor:      p.text("actor", 320),
		Action:     p.text("action", 100),
		TargetType: p.text("target_type", 50),
		TargetID:   p.text("target_id", 50),
		From:       p.time("from"),
		To:         p.time("to"),
		Limit:      p.intRange("limit", 100, 1, 1000),
		Offset:     p.intRange("offset", 0, 0, maxOffset),
	}
	csvOut := c.Query("format") == "csv"
	if p.err != nil {
		return auditPage{}, p.err
	}
	limit, offset := f.Limit, f.Offset
	if csvOut {
		f.Limit, f.Offset, f.NoTotal = 100000, 0, true // (the file has no total: none is counted)
	}
	page, err := s.Store.ListAudit(c.Request.Context(), f)
	if err != nil {
		return auditPage{}, err
	}
	items := make([]auditView, len(page.Items))
	for i, r := range page.Items {
		items[i] = auditView{r.ID, r.At, r.ActorEmail, r.Action, r.TargetType, r.TargetID, r.Before, r.After, r.RequestID, r.IP}
	}
	if csvOut {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="audit-log.csv"`)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"at", "actor", "action", "target_type", "target_id", "before", "after", "request_id", "ip"})
		for _, it := range items {
			_ = w.Write([]string{it.At.UTC().Format(time.RFC3339), csvSafe(it.ActorEmail), it.Action, it.TargetType, csvSafe(it.TargetID),
				csvSafe(it.Before), csvSafe(it.After), it.RequestID, it.IP})
		}
		w.Flush()
		return auditPage{}, nil
	}
	return auditPage{Items: items, Total: page.Total, TotalCapped: page.TotalCapped, Limit: limit, Offset: offset}, nil
}
