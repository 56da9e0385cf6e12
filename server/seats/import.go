package seats

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// MaxImportLines bounds one CSV import.
const MaxImportLines = 20000

// Import modes.
const (
	ModeAdd     = "add"     // assign the listed users
	ModeReplace = "replace" // the file is the full list: release everyone not listed
)

// Line is one user read from a CSV file.
type Line struct {
	Line int
	User User
	Name string
}

// Row is a line of an import result.
type Row struct {
	Line int    `json:"line"`
	User string `json:"user"`
	Name string `json:"name,omitempty"`
}

// Released is a seat an import releases.
type Released struct {
	ID   uint   `json:"id"`
	User string `json:"user"`
}

// Refusal is a line an import does not take, and why.
type Refusal struct {
	Line   int    `json:"line"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// ImportResult says what an import changes (preview) or changed (applied).
type ImportResult struct {
	Applied bool       `json:"applied"`
	Mode    string     `json:"mode"`
	Add     []Row      `json:"add"`
	Keep    []Row      `json:"keep"`
	Release []Released `json:"release"`
	Refused []Refusal  `json:"refused"`
	Summary Summary    `json:"summary"`
}

// FileError: the file cannot be read as CSV.
type FileError struct {
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

var headerNames = map[string]string{
	"email": "email", "e-mail": "email", "mail": "email", "user": "user", "upn": "email",
	"entra_object_id": "object", "object_id": "object", "objectid": "object", "entra object id": "object", "oid": "object",
	"name": "name", "display_name": "name", "displayname": "name",
}

// ParseCSV reads users from a CSV file. A first row naming columns (email,
// entra_object_id or object_id, user, name) is a header; without one the
// first column is the user (e-mail or object id) and the second the name.
// Lines that name no valid user, or a user listed before, are refused.
func ParseCSV(data []byte) ([]Line, []Refusal, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	if bytes.Count(data[:min(len(data), 4096)], []byte(";")) > bytes.Count(data[:min(len(data), 4096)], []byte(",")) {
		r.Comma = ';' // spreadsheets in many locales save with semicolons
	}
	cols := map[string]int{"user": 0, "name": 1}
	var lines []Line
	var refused []Refusal
	seen := map[string]int{}
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, &FileError{Line: pe.Line, Msg: pe.Err.Error()}
			}
			return nil, nil, &FileError{Msg: err.Error()}
		}
		lineNo, _ := r.FieldPos(0)
		if first {
			first = false
			if h, ok := header(rec); ok {
				cols = h
				continue
			}
		}
		if len(lines)+len(refused) >= MaxImportLines {
			return nil, nil, &FileError{Line: lineNo, Msg: fmt.Sprintf("more than %d lines: split the file", MaxImportLines)}
		}
		get := func(k string) string {
			if i, ok := cols[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		raw := strings.Join(rec, ",")
		if strings.TrimSpace(strings.ReplaceAll(raw, ",", "")) == "" {
			continue // an empty row
		}
		var u User
		var bad string
		if v := get("user"); v != "" {
			pu, err := ParseUser(v)
			if err != nil {
				bad = err.Error()
			}
			u = pu
		}
		if v := get("email"); v != "" && bad == "" {
			if e, ok := parseEmail(v); ok {
				u.Email = e
			} else {
				bad = fmt.Sprintf("%q is not an e-mail address", v)
			}
		}
		if v := get("object"); v != "" && bad == "" {
			if guidRE.MatchString(v) {
				u.ObjectID = strings.ToLower(v)
			} else {
				bad = fmt.Sprintf("%q is not an Entra object id (a GUID)", v)
			}
		}
		if bad == "" && u.Email == "" && u.ObjectID == "" {
			bad = "no e-mail address or Entra object id"
		}
		if bad != "" {
			refused = append(refused, Refusal{Line: lineNo, Value: raw, Reason: bad})
			continue
		}
		dup := 0
		for _, k := range []string{"e:" + u.Email, "o:" + u.ObjectID} {
			if len(k) > 2 && seen[k] != 0 && dup == 0 {
				dup = seen[k]
			}
		}
		if dup != 0 {
			refused = append(refused, Refusal{Line: lineNo, Value: u.String(), Reason: fmt.Sprintf("listed before, on line %d", dup)})
			continue
		}
		for _, k := range []string{"e:" + u.Email, "o:" + u.ObjectID} {
			if len(k) > 2 {
				seen[k] = lineNo
			}
		}
		lines = append(lines, Line{Line: lineNo, User: u, Name: get("name")})
	}
	return lines, refused, nil
}

func header(rec []string) (map[string]int, bool) {
	cols := map[string]int{}
	for i, f := range rec {
		if k, ok := headerNames[strings.ToLower(strings.TrimSpace(f))]; ok {
			if _, dup := cols[k]; !dup {
				cols[k] = i
			}
		}
	}
	_, user := cols["user"]
	_, email := cols["email"]
	_, object := cols["object"]
	return cols, user || email || object
}

// Import assigns (and, in replace mode, releases) seats of a subscription
// of customerID (0: any) from parsed lines. Without apply nothing is
// written: the result says what would happen.
func (s *Service) Import(ctx context.Context, customerID, subID uint, lines []Line, refused []Refusal, mode string, apply bool, actor string) (*ImportResult, error) {
	if mode != ModeReplace {
		mode = ModeAdd
	}
	out := &ImportResult{Mode: mode, Add: []Row{}, Keep: []Row{}, Release: []Released{}, Refused: append([]Refusal{}, refused...)}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.SeatSubscription(subID, customerID, apply)
		if err != nil {
			return err
		}
		if sub.Plan == nil || !sub.Plan.SeatBased {
			return ErrNotSeatBased
		}
		if closed(sub.State) {
			return ErrClosed
		}
		have, err := tx.SeatsOf(sub.ID)
		if err != nil {
			return err
		}
		byEmail, byObject := map[string]*store.Seat{}, map[string]*store.Seat{}
		for i := range have {
			if e := have[i].Email; e != "" {
				byEmail[e] = &have[i]
			}
			if o := have[i].EntraObjectID; o != "" {
				byObject[o] = &have[i]
			}
		}
		kept := map[uint]bool{}
		var adds []Line
		for _, l := range lines {
			seat := byEmail[l.User.Email]
			if seat == nil {
				seat = byObject[l.User.ObjectID]
			}
			if seat == nil {
				adds = append(adds, l)
				continue
			}
			if kept[seat.ID] {
				out.Refused = append(out.Refused, Refusal{Line: l.Line, Value: l.User.String(), Reason: "the same seat holder is listed before"})
				continue
			}
			kept[seat.ID] = true
			out.Keep = append(out.Keep, Row{Line: l.Line, User: l.User.String(), Name: l.Name})
		}
		var releaseIDs []uint
		if mode == ModeReplace {
			for _, h := range have {
				if !kept[h.ID] {
					releaseIDs = append(releaseIDs, h.ID)
					out.Release = append(out.Release, Released{ID: h.ID, User: holder(h)})
				}
			}
		}
		assigned := len(have) - len(releaseIDs)
		now := s.Store.Now()
		var added []store.Seat
		for _, l := range adds {
			if assigned >= sub.Quantity && !sub.Plan.AllowOverAssignment {
				out.Refused = append(out.Refused, Refusal{Line: l.Line, Value: l.User.String(),
					Reason: (&NoFreeSeatError{Bought: sub.Quantity, Assigned: assigned}).Error()})
				continue
			}
			assigned++
			out.Add = append(out.Add, Row{Line: l.Line, User: l.User.String(), Name: l.Name})
			if apply {
				seat := &store.Seat{SubscriptionID: sub.ID, CustomerID: sub.CustomerID, Email: l.User.Email, EntraObjectID: l.User.ObjectID,
					Name: strings.TrimSpace(l.Name), Source: store.SeatImport, AssignedBy: actor, AssignedAt: now}
				if err := tx.CreateSeat(seat); err != nil {
					return err
				}
				added = append(added, *seat)
			}
		}
		if apply && len(releaseIDs) > 0 {
			if _, err := tx.DeleteSeats(sub.ID, releaseIDs); err != nil {
				return err
			}
			var gone []store.Seat
			for _, h := range have {
				if slices.Contains(releaseIDs, h.ID) {
					gone = append(gone, h)
				}
			}
			if err := emitSeats(tx, now, sub.ID, webhooks.SeatReleased, gone); err != nil {
				return err
			}
		}
		if err := emitSeats(tx, now, sub.ID, webhooks.SeatAssigned, added); err != nil {
			return err
		}
		out.Applied = apply
		out.Summary = summarize(sub, assigned)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func holder(s store.Seat) string {
	if s.Email != "" {
		return s.Email
	}
	return s.EntraObjectID
}
