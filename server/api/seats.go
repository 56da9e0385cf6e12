package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
)

// moreSeats tells a customer admin how to get more seats: the path the
// subscription's marketplace allows.
type moreSeats struct {
	Text  string `json:"text"`
	URL   string `json:"url,omitempty"`
	Label string `json:"label,omitempty"`
}

func (s *Server) moreSeatsFor(sub *store.Subscription) moreSeats {
	contact := "the seller"
	if s.Info.SupportEmail != "" {
		contact = "the seller (" + s.Info.SupportEmail + ")"
	}
	switch {
	case sub.Marketplace == "azure":
		return moreSeats{Text: "Seats are bought through Microsoft. An administrator of your organisation changes the number of seats in the Microsoft 365 admin center (Teams and Microsoft 365 apps) or in the Azure portal (SaaS resources); you can also ask " + contact + " to change it for you.",
			URL: "https://admin.microsoft.com/Adminportal/Home#/subscriptions", Label: "Open the Microsoft 365 admin center"}
	case sub.Marketplace == "aws" && sub.Offer != nil && sub.Offer.Contract:
		return moreSeats{Text: "Seats come with your AWS Marketplace contract. Upgrade it in the AWS Marketplace console (Manage subscriptions → the product → Modify) to add users, or ask " + contact + " for a private offer.",
			URL: "https://console.aws.amazon.com/marketplace/home#/subscriptions", Label: "Open AWS Marketplace subscriptions"}
	default:
		return moreSeats{Text: "Ask " + contact + " for more seats."}
	}
}

type seatSummaryView struct {
	seats.Summary
	CanManage bool      `json:"can_manage"`
	MoreSeats moreSeats `json:"more_seats"`
}

func (s *Server) seatSummary(c *gin.Context, sub *store.Subscription, sm seats.Summary) seatSummaryView {
	u := currentUser(c)
	return seatSummaryView{Summary: sm, MoreSeats: s.moreSeatsFor(sub),
		CanManage: sm.SeatBased && u.Role != store.RoleViewer}
}

// scopedSubscription loads the subscription in the path, as not found when
// it belongs to another customer than the customer admin's own.
func (s *Server) scopedSubscription(c *gin.Context) (*store.Subscription, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return nil, false
	}
	sub, err := s.Store.GetSubscription(c.Request.Context(), id)
	if err == nil {
		if scope := customerScope(currentUser(c)); scope != 0 && (sub.CustomerID == nil || *sub.CustomerID != scope) {
			err = store.ErrNotFound
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		s.failCode(c, apperr.NotFound, "subscription %d does not exist", id)
		return nil, false
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return sub, true
}

// seatError maps the seat rules' errors to client errors.
func (s *Server) seatError(c *gin.Context, sub *store.Subscription, err error) {
	var nf *seats.NoFreeSeatError
	var iu *seats.InvalidUserError
	var fe *seats.FileError
	switch {
	case errors.As(err, &nf):
		s.failCode(c, apperr.NoFreeSeat, "No free seat: %d bought, %d assigned. %s", nf.Bought, nf.Assigned, s.moreSeatsFor(sub).Text)
	case errors.As(err, &iu), errors.As(err, &fe):
		s.failCode(c, apperr.Invalid, "%s", err.Error())
	case errors.Is(err, seats.ErrNotSeatBased):
		s.failCode(c, apperr.NotSeatBased, "%s", err.Error())
	case errors.Is(err, seats.ErrClosed), errors.Is(err, seats.ErrTaken):
		s.failCode(c, apperr.Conflict, "%s", err.Error())
	case errors.Is(err, store.ErrNotFound):
		s.failCode(c, apperr.NotFound, "subscription %d does not exist", sub.ID)
	default:
		s.fail(c, err)
	}
}

// listSeats is a subscription's seat list with its summary.
func (s *Server) listSeats(c *gin.Context) {
	sub, ok := s.scopedSubscription(c)
	if !ok {
		return
	}
	p := params{c: c}
	q := p.text("q", 320)
	limit := p.intRange("limit", 50, 1, 500)
	offset := p.intRange("offset", 0, 0, maxOffset)
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	items, total, sm, err := s.seats.List(c.Request.Context(), sub, q, limit, offset)
	if err != nil {
		s.fail(c, err)
		return
	}
	if items == nil {
		items = []seats.Item{}
	}
	c.JSON(http.StatusOK, gin.H{"summary": s.seatSummary(c, sub, sm), "items": items, "total": total})
}

// assignSeat gives one user a seat.
func (s *Server) assignSeat(c *gin.Context) {
	sub, ok := s.scopedSubscription(c)
	if !ok {
		return
	}
	var in struct {
		User string `json:"user"`
		Name string `json:"name"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if len(in.Name) > 200 {
		s.failCode(c, apperr.Invalid, "name is longer than 200 characters")
		return
	}
	who, err := seats.ParseUser(in.User)
	if err != nil {
		s.seatError(c, sub, err)
		return
	}
	u := currentUser(c)
	seat, sm, err := s.seats.Assign(c.Request.Context(), customerScope(u), sub.ID, who, in.Name, u.Email)
	if err != nil {
		s.seatError(c, sub, err)
		return
	}
	s.audit(c, u, "seat.assign", "subscription", sub.ID, nil, map[string]any{"user": who.String(), "seat": seat.ID})
	c.JSON(http.StatusCreated, gin.H{"seat": seats.Item{Seat: *seat, Over: sm.Assigned > sm.Bought}, "summary": s.seatSummary(c, sub, sm)})
}

// releaseSeat removes one seat (DELETE …/seats/:seat).
func (s *Server) releaseSeat(c *gin.Context) {
	sub, ok := s.scopedSubscription(c)
	if !ok {
		return
	}
	id, err := strconv.ParseUint(c.Param("seat"), 10, 32)
	if err != nil || id == 0 {
		s.failCode(c, apperr.Invalid, "seat id must be a positive whole number")
		return
	}
	n, sm, err := s.seats.Release(c.Request.Context(), customerScope(currentUser(c)), sub.ID, []uint{uint(id)})
	if err != nil {
		s.seatError(c, sub, err)
		return
	}
	if n == 0 {
		s.failCode(c, apperr.NotFound, "seat %d does not exist on subscription %d", id, sub.ID)
		return
	}
	s.audit(c, currentUser(c), "seat.release", "subscription", sub.ID, map[string]any{"seats": []uint64{id}}, nil)
	c.JSON(http.StatusOK, gin.H{"released": n, "summary": s.seatSummary(c, sub, sm)})
}

// releaseSeats removes several seats at once (choosing whom to release
// when the quantity dropped).
func (s *Server) releaseSeats(c *gin.Context) {
	sub, ok := s.scopedSubscription(c)
	if !ok {
		return
	}
	var in struct {
		IDs []uint `json:"ids"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if len(in.IDs) == 0 || len(in.IDs) > seats.MaxImportLines {
		s.failCode(c, apperr.Invalid, "ids must list between 1 and %d seats", seats.MaxImportLines)
		return
	}
	n, sm, err := s.seats.Release(c.Request.Context(), customerScope(currentUser(c)), sub.ID, in.IDs)
	if err != nil {
		s.seatError(c, sub, err)
		return
	}
	if n > 0 {
		s.audit(c, currentUser(c), "seat.release", "subscription", sub.ID, map[string]any{"seats": in.IDs}, nil)
	}
	c.JSON(http.StatusOK, gin.H{"released": n, "summary": s.seatSummary(c, sub, sm)})
}

// exportSeats downloads the seat list as CSV (the import's format).
func (s *Server) exportSeats(c *gin.Context) {
	sub, ok := s.scopedSubscription(c)
	if !ok {
		return
	}
	items, err := s.seats.All(c.Request.Context(), sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="subscription-%d-seats.csv"`, sub.ID))
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"email", "entra_object_id", "name", "source", "assigned_by", "assigned_at", "over"})
	for _, it := range items {
		_ = w.Write([]string{csvSafe(it.Email), it.EntraObjectID, csvSafe(it.Name), it.Source, csvSafe(it.AssignedBy),
			it.AssignedAt.UTC().Format(time.RFC3339), strconv.FormatBool(it.Over)})
	}
	w.Flush()
}

// importSeats previews or applies a CSV file of users.
func (s *Server) importSeats(c *gin.Context) {
	sub, ok := s.scopedSubscription(c)
	if !ok {
		return
	}
	p := params{c: c}
	mode := p.oneOf("mode", []string{seats.ModeAdd, seats.ModeReplace})
	apply := p.oneOf("apply", []string{"true", "false", "1", "0"})
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	switch ct := c.ContentType(); ct {
	case "text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", "":
	default:
		s.failCode(c, apperr.Invalid, "send the CSV file itself as the body (Content-Type: text/csv), not %s", ct)
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			s.failCode(c, apperr.TooLarge, "the file is larger than 1 MB: split it")
			return
		}
		s.fail(c, err)
		return
	}
	lines, refused, err := seats.ParseCSV(body)
	if err != nil {
		s.seatError(c, sub, err)
		return
	}
	if len(lines) == 0 && len(refused) == 0 {
		s.failCode(c, apperr.Invalid, "the file lists nobody")
		return
	}
	doApply := apply == "true" || apply == "1"
	u := currentUser(c)
	res, err := s.seats.Import(c.Request.Context(), customerScope(u), sub.ID, lines, refused, mode, doApply, u.Email)
	if err != nil {
		s.seatError(c, sub, err)
		return
	}
	if doApply && (len(res.Add) > 0 || len(res.Release) > 0) {
		s.audit(c, u, "seat.import", "subscription", sub.ID, nil,
			map[string]any{"mode": res.Mode, "added": len(res.Add), "released": len(res.Release), "refused": len(res.Refused)})
	}
	c.JSON(http.StatusOK, gin.H{"applied": res.Applied, "mode": res.Mode, "add": res.Add, "keep": res.Keep, "release": res.Release,
		"refused": res.Refused, "summary": s.seatSummary(c, sub, res.Summary)})
}

// seatCheck answers the seller's application: does this user of this
// organisation hold a seat?
func (s *Server) seatCheck(c *gin.Context) {
	p := params{c: c}
	q := seats.Query{
		CustomerID:   p.id("customer_id"),
		TenantID:     strings.ToLower(p.text("tenant_id", 64)),
		AWSAccountID: p.text("aws_account_id", 12),
		Offer:        p.text("offer", 256),
	}
	email, object := p.text("email", 320), p.text("object_id", 64)
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	named := 0
	for _, set := range []bool{q.CustomerID != 0, q.TenantID != "", q.AWSAccountID != ""} {
		if set {
			named++
		}
	}
	if named != 1 {
		s.failCode(c, apperr.Invalid, "name the organisation with exactly one of tenant_id, aws_account_id or customer_id")
		return
	}
	if email == "" && object == "" {
		s.failCode(c, apperr.Invalid, "name the user with email or object_id (or both)")
		return
	}
	if email != "" {
		u, err := seats.ParseUser(email)
		if err != nil || u.Email == "" {
			s.failCode(c, apperr.Invalid, "email is not an e-mail address")
			return
		}
		q.User.Email = u.Email
	}
	if object != "" {
		u, err := seats.ParseUser(object)
		if err != nil || u.ObjectID == "" {
			s.failCode(c, apperr.Invalid, "object_id is not an Entra object id (a GUID)")
			return
		}
		q.User.ObjectID = u.ObjectID
	}
	a, err := s.seats.Check(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}
