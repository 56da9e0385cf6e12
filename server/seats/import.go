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
	"time"

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
	r := csvReader(data)
	cols := map[string]int{"user": 0, "name": 1}
	var lines []Line
	var refused []Refusal
	seen := seenUsers{}
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fileError(err)
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
		raw := strings.Join(rec, ",")
		if strings.TrimSpace(strings.ReplaceAll(raw, ",", "")) == "" {
			continue // an empty row
		}
		row := csvRow{rec: rec, cols: cols}
		u, bad := row.user()
		if bad != "" {
			refused = append(refused, Refusal{Line: lineNo, Value: raw, Reason: bad})
			continue
		}
		if dup := seen.line(u); dup != 0 {
			refused = append(refused, Refusal{Line: lineNo, Value: u.String(), Reason: fmt.Sprintf("listed before, on line %d", dup)})
			continue
		}
		seen.add(u, lineNo)
		lines = append(lines, Line{Line: lineNo, User: u, Name: row.get("name")})
	}
	return lines, refused, nil
}

// csvReader reads the file's records, with semicolons as the separator when
// its start has more of them than commas.
func csvReader(data []byte) *csv.Reader {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	if bytes.Count(data[:min(len(data), 4096)], []byte(";")) > bytes.Count(data[:min(len(data), 4096)], []byte(",")) {
		r.Comma = ';' // spreadsheets in many locales save with semicolons
	}
	return r
}

// fileError says where the file stops being CSV.
func fileError(err error) *FileError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &FileError{Msg: err.Error()}
}

// csvRow is one record with the columns the header (or the default) names.
type csvRow struct {
	rec  []string
	cols map[string]int
}

// get is the trimmed value of column k ("" when the row has none).
func (row csvRow) get(k string) string {
	if i, ok := row.cols[k]; ok && i < len(row.rec) {
		return strings.TrimSpace(row.rec[i])
	}
	return ""
}

// user is the user the row names, or why it names no valid one.
func (row csvRow) user() (u User, bad string) {
	if v := row.get("user"); v != "" {
		pu, err := ParseUser(v)
		if err != nil {
			return pu, err.Error()
		}
		u = pu
	}
	if v := row.get("email"); v != "" {
		e, ok := parseEmail(v)
		if !ok {
			return u, fmt.Sprintf("%q is not an e-mail address", v)
		}
		u.Email = e
	}
	if v := row.get("object"); v != "" {
		if !guidRE.MatchString(v) {
			return u, fmt.Sprintf("%q is not an Entra object id (a GUID)", v)
		}
		u.ObjectID = strings.ToLower(v)
	}
	if u.Email == "" && u.ObjectID == "" {
		return u, "no e-mail address or Entra object id"
	}
	return u, ""
}

// seenUsers remembers the line each e-mail address and object id was
// first listed on.
type seenUsers map[string]int

func seenKeys(u User) []string { return []string{"e:" + u.Email, "o:" + u.ObjectID} }

// line is the line that listed u before (by e-mail, then object id), 0 if none.
func (s seenUsers) line(u User) int {
	for _, k := range seenKeys(u) {
		if len(k) > 2 && s[k] != 0 {
			return s[k]
		}
	}
	return 0
}

func (s seenUsers) add(u User, line int) {
	for _, k := range seenKeys(u) {
		if len(k) > 2 {
			s[k] = line
		}
	}
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
		sub, err := importTarget(tx, subID, customerID, apply)
		if err != nil {
			return err
		}
		have, err := tx.SeatsOf(sub.ID)
		if err != nil {
			return err
		}
		kept, adds := out.match(have, lines)
		var releaseIDs []uint
		if mode == ModeReplace {
			releaseIDs = out.releaseUnkept(have, kept)
		}
		im := seatImport{tx: tx, sub: sub, now: s.Store.Now(), apply: apply, actor: actor, out: out}
		assigned, added, err := im.assign(adds, len(have)-len(releaseIDs))
		if err != nil {
			return err
		}
		if apply && len(releaseIDs) > 0 {
			if err := im.release(have, releaseIDs); err != nil {
				return err
			}
		}
		if err := emitSeats(tx, im.now, sub.ID, webhooks.SeatAssigned, added); err != nil {
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

// importTarget is the subscription seats are imported into: seat-based
// and not closed.
func importTarget(tx *store.Tx, subID, customerID uint, lock bool) (*store.Subscription, error) {
	sub, err := tx.SeatSubscription(subID, customerID, lock)
	if err != nil {
		return nil, err
	}
	if sub.Plan == nil || !sub.Plan.SeatBased {
		return nil, ErrNotSeatBased
	}
	if closed(sub.State) {
		return nil, ErrClosed
	}
	return sub, nil
}

// match sorts the lines into seats kept (a holder listed again, by e-mail
// or object id) and lines to add; a holder listed twice is refused.
func (out *ImportResult) match(have []store.Seat, lines []Line) (kept map[uint]bool, adds []Line) {
	byEmail, byObject := map[string]*store.Seat{}, map[string]*store.Seat{}
	for i := range have {
		if e := have[i].Email; e != "" {
			byEmail[e] = &have[i]
		}
		if o := have[i].EntraObjectID; o != "" {
			byObject[o] = &have[i]
		}
	}
	kept = map[uint]bool{}
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
	return kept, adds
}

// releaseUnkept lists (replace mode) the seats the file does not keep.
func (out *ImportResult) releaseUnkept(have []store.Seat, kept map[uint]bool) []uint {
	var releaseIDs []uint
	for _, h := range have {
		if !kept[h.ID] {
			releaseIDs = append(releaseIDs, h.ID)
			out.Release = append(out.Release, Released{ID: h.ID, User: holder(h)})
		}
	}
	return releaseIDs
}

// seatImport is one import's writes (none unless apply).
type seatImport struct {
	tx    *store.Tx
	sub   *store.Subscription
	now   time.Time
	apply bool
	actor string
	out   *ImportResult
}

// assign adds seats for the lines while seats are free (or the plan allows
// over-assignment), refusing the rest. It returns the seats assigned then
// and those it created.
func (im *seatImport) assign(adds []Line, assigned int) (int, []store.Seat, error) {
	sub, out := im.sub, im.out
	var added []store.Seat
	for _, l := range adds {
		if assigned >= sub.Quantity && !sub.Plan.AllowOverAssignment {
			out.Refused = append(out.Refused, Refusal{Line: l.Line, Value: l.User.String(),
				Reason: (&NoFreeSeatError{Bought: sub.Quantity, Assigned: assigned}).Error()})
			continue
		}
		assigned++
		out.Add = append(out.Add, Row{Line: l.Line, User: l.User.String(), Name: l.Name})
		if !im.apply {
			continue
		}
		seat := &store.Seat{SubscriptionID: sub.ID, CustomerID: sub.CustomerID, Email: l.User.Email, EntraObjectID: l.User.ObjectID,
			Name: strings.TrimSpace(l.Name), Source: store.SeatImport, AssignedBy: im.actor, AssignedAt: im.now}
		if err := im.tx.CreateSeat(seat); err != nil {
			return 0, nil, err
		}
		added = append(added, *seat)
	}
	return assigned, added, nil
}

// release deletes the seats to release and tells the seller's systems.
func (im *seatImport) release(have []store.Seat, releaseIDs []uint) error {
	if _, err := im.tx.DeleteSeats(im.sub.ID, releaseIDs); err != nil {
		return err
	}
	var gone []store.Seat
	for _, h := range have {
		if slices.Contains(releaseIDs, h.ID) {
			gone = append(gone, h)
		}
	}
	return emitSeats(im.tx, im.now, im.sub.ID, webhooks.SeatReleased, gone)
}

func holder(s store.Seat) string {
	if s.Email != "" {
		return s.Email
	}
	return s.EntraObjectID
}
