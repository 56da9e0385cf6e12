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

// seatError maps the seat rules' errors to client errors.
func (s *Server) seatError(sub *store.Subscription, err error) error {
	var nf *seats.NoFreeSeatError
	var iu *seats.InvalidUserError
	var fe *seats.FileError
	switch {
	case errors.As(err, &nf):
		return apperr.New(apperr.NoFreeSeat, "No free seat: %d bought, %d assigned. %s", nf.Bought, nf.Assigned, s.moreSeatsFor(sub).Text)
	case errors.As(err, &iu), errors.As(err, &fe):
		return apperr.New(apperr.Invalid, "%s", err.Error())
	case errors.Is(err, seats.ErrNotSeatBased):
		return apperr.New(apperr.NotSeatBased, "%s", err.Error())
	case errors.Is(err, seats.ErrClosed), errors.Is(err, seats.ErrTaken):
		return apperr.New(apperr.Conflict, "%s", err.Error())
	case errors.Is(err, store.ErrNotFound):
		return apperr.New(apperr.NotFound, "subscription %d does not exist", sub.ID)
	default:
		return err
	}
}

// seatView is one seat; over: beyond the quantity bought.
type seatView struct {
	seats.Item
}

// seatQuery names the seat list's query parameters.
type seatQuery struct {
	Q      string `form:"q"` // part of the e-mail, name or object id
	Limit  int    `form:"limit"`
	Offset int    `form:"offset"`
}

// seatImportQuery names the import's query parameters.
type seatImportQuery struct {
	Mode  string `form:"mode"`  // add (default) or replace
	Apply string `form:"apply"` // true: apply; else a preview
}

// seatList is a page of a subscription's seats with its summary.
type seatList struct {
	Summary seatSummaryView `json:"summary"`
	Items   []seatView      `json:"items"`
	Total   int             `json:"total"`
}

// listSeats is a subscription's seat list with its summary.
func (s *Server) listSeats(c *gin.Context) (seatList, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return seatList{}, err
	}
	p := params{c: c}
	q := p.text("q", 320)
	limit := p.intRange("limit", 50, 1, 500)
	offset := p.intRange("offset", 0, 0, maxOffset)
	if p.err != nil {
		return seatList{}, p.err
	}
	items, total, sm, err := s.seats.List(c.Request.Context(), sub, q, limit, offset)
	if err != nil {
		return seatList{}, err
	}
	out := seatList{Summary: s.seatSummary(c, sub, sm), Items: make([]seatView, 0, len(items)), Total: total}
	for _, it := range items {
		out.Items = append(out.Items, seatView{it})
	}
	return out, nil
}

// seatAssignment is the body of a seat assignment: the user's e-mail
// address or Entra object id, and a name.
type seatAssignment struct {
	User string `json:"user"`
	Name string `json:"name"`
}

// seatAssigned is the seat given and the summary after.
type seatAssigned struct {
	Seat    seatView        `json:"seat"`
	Summary seatSummaryView `json:"summary"`
}

// assignSeat gives one user a seat.
func (s *Server) assignSeat(c *gin.Context, in seatAssignment) (seatAssigned, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return seatAssigned{}, err
	}
	if len(in.Name) > 200 {
		return seatAssigned{}, apperr.New(apperr.Invalid, "name is longer than 200 characters")
	}
	who, err := seats.ParseUser(in.User)
	if err != nil {
		return seatAssigned{}, s.seatError(sub, err)
	}
	u := currentUser(c)
	seat, sm, err := s.seats.Assign(c.Request.Context(), customerScope(u), sub.ID, who, in.Name, u.Email)
	if err != nil {
		return seatAssigned{}, s.seatError(sub, err)
	}
	s.audit(c, u, "seat.assign", "subscription", sub.ID, nil, map[string]any{"user": who.String(), "seat": seat.ID})
	return seatAssigned{Seat: seatView{seats.Item{Seat: *seat, Over: sm.Assigned > sm.Bought}}, Summary: s.seatSummary(c, sub, sm)}, nil
}

// seatsReleased is how many seats a release removed and the summary after.
type seatsReleased struct {
	Released int             `json:"released"`
	Summary  seatSummaryView `json:"summary"`
}

// releaseSeat removes one seat (DELETE …/seats/:seat).
func (s *Server) releaseSeat(c *gin.Context) (seatsReleased, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return seatsReleased{}, err
	}
	id, err := strconv.ParseUint(c.Param("seat"), 10, 32)
	if err != nil || id == 0 {
		return seatsReleased{}, apperr.New(apperr.Invalid, "seat id must be a positive whole number")
	}
	n, sm, err := s.seats.Release(c.Request.Context(), customerScope(currentUser(c)), sub.ID, []uint{uint(id)})
	if err != nil {
		return seatsReleased{}, s.seatError(sub, err)
	}
	if n == 0 {
		return seatsReleased{}, apperr.New(apperr.NotFound, "seat %d does not exist on subscription %d", id, sub.ID)
	}
	s.audit(c, currentUser(c), "seat.release", "subscription", sub.ID, map[string]any{"seats": []uint64{id}}, nil)
	return seatsReleased{Released: n, Summary: s.seatSummary(c, sub, sm)}, nil
}

// seatIDs names seats to release.
type seatIDs struct {
	IDs []uint `json:"ids"`
}

// releaseSeats removes several seats at once (choosing whom to release
// when the quantity dropped).
func (s *Server) releaseSeats(c *gin.Context, in seatIDs) (seatsReleased, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return seatsReleased{}, err
	}
	if len(in.IDs) == 0 || len(in.IDs) > seats.MaxImportLines {
		return seatsReleased{}, apperr.New(apperr.Invalid, "ids must list between 1 and %d seats", seats.MaxImportLines)
	}
	n, sm, err := s.seats.Release(c.Request.Context(), customerScope(currentUser(c)), sub.ID, in.IDs)
	if err != nil {
		return seatsReleased{}, s.seatError(sub, err)
	}
	if n > 0 {
		s.audit(c, currentUser(c), "seat.release", "subscription", sub.ID, map[string]any{"seats": in.IDs}, nil)
	}
	return seatsReleased{Released: n, Summary: s.seatSummary(c, sub, sm)}, nil
}

// exportSeats downloads the seat list as CSV (the import's format).
func (s *Server) exportSeats(c *gin.Context) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		s.fail(c, err)
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

// seatImportLine is a line of the file an import adds or keeps.
type seatImportLine struct{ seats.Row }

// seatImportRelease is a seat an import releases.
type seatImportRelease struct{ seats.Released }

// seatImportRefusal is a line an import does not take, and why.
type seatImportRefusal struct{ seats.Refusal }

// seatImport is an import's preview or outcome: whom it adds, keeps,
// releases and refuses, and the summary after.
type seatImport struct {
	Applied bool                `json:"applied"`
	Mode    string              `json:"mode"`
	Add     []seatImportLine    `json:"add"`
	Keep    []seatImportLine    `json:"keep"`
	Release []seatImportRelease `json:"release"`
	Refused []seatImportRefusal `json:"refused"`
	Summary seatSummaryView     `json:"summary"`
}

// wrapAll wraps each element of a list (never nil) in its answer type.
func wrapAll[T, V any](in []T, wrap func(T) V) []V {
	out := make([]V, 0, len(in))
	for _, x := range in {
		out = append(out, wrap(x))
	}
	return out
}

// importSeats previews or applies a CSV file of users (the body is the
// file itself, not JSON).
func (s *Server) importSeats(c *gin.Context) (seatImport, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return seatImport{}, err
	}
	p := params{c: c}
	mode := p.oneOf("mode", []string{seats.ModeAdd, seats.ModeReplace})
	apply := p.oneOf("apply", []string{"true", "false", "1", "0"})
	if p.err != nil {
		return seatImport{}, p.err
	}
	switch ct := c.ContentType(); ct {
	case "text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", "":
	default:
		return seatImport{}, apperr.New(apperr.Invalid, "send the CSV file itself as the body (Content-Type: text/csv), not %s", ct)
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return seatImport{}, apperr.New(apperr.TooLarge, "the file is larger than 1 MB: split it")
		}
		return seatImport{}, err
	}
	lines, refused, err := seats.ParseCSV(body)
	if err != nil {
		return seatImport{}, s.seatError(sub, err)
	}
	if len(lines) == 0 && len(refused) == 0 {
		return seatImport{}, apperr.New(apperr.Invalid, "the file lists nobody")
	}
	doApply := apply == "true" || apply == "1"
	u := currentUser(c)
	res, err := s.seats.Import(c.Request.Context(), customerScope(u), sub.ID, lines, refused, mode, doApply, u.Email)
	if err != nil {
		return seatImport{}, s.seatError(sub, err)
	}
	if doApply && (len(res.Add) > 0 || len(res.Release) > 0) {
		s.audit(c, u, "seat.import", "subscription", sub.ID, nil,
			map[string]any{"mode": res.Mode, "added": len(res.Add), "released": len(res.Release), "refused": len(res.Refused)})
	}
	line := func(r seats.Row) seatImportLine { return seatImportLine{r} }
	return seatImport{Applied: res.Applied, Mode: res.Mode, Add: wrapAll(res.Add, line), Keep: wrapAll(res.Keep, line),
		Release: wrapAll(res.Release, func(r seats.Released) seatImportRelease { return seatImportRelease{r} }),
		Refused: wrapAll(res.Refused, func(r seats.Refusal) seatImportRefusal { return seatImportRefusal{r} }),
		Summary: s.seatSummary(c, sub, res.Summary)}, nil
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
	s.Metrics.SeatCheck(a.Licensed, a.Reason)
	c.JSON(http.StatusOK, s.withConsent(c, a))
}
