package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// BatchMeterUsage, with the rules of the reference (aws-marketplace.md §4):
//
//	R1  at most 25 records and a body under 1 MB (ValidationException)
//	R2  one product per call: a legacy request names its ProductCode, a
//	    concurrent-agreements request names none and all its LicenseArns
//	    belong to one product (InvalidLicenseException)
//	R3  a Timestamp up to 24 hours old, not in the future
//	R4  previous-month usage only until 06:00 UTC on the 1st
//	R5  one record out of bounds fails the whole batch (TimestampOutOfBoundsException)
//	R6  one record per customer, dimension and UTC hour
//	R7  an identical resend succeeds again with the same MeteringRecordId
//	R8  a different quantity for a metered hour is a DuplicateRecord; the first wins
//	R9  Quantity is an Integer from 0 to 2147483647 ("Type: Integer, Valid
//	    Range: Minimum value of 0. Maximum value of 2147483647", API
//	    Reference, UsageRecord): anything else fails the call (ValidationException)
//
// Unknown or unsubscribed customers get CustomerNotSubscribed per record.

// MeteredRecord is one record the fake accepted (billed).
type MeteredRecord struct {
	Key       string // the customer: "ca:<account>:<license>" or "legacy:<product>:<customer>"
	Dimension string
	Hour      time.Time
	Timestamp time.Time
	Quantity  int32
	RecordID  string
}

type usageRecord struct {
	CustomerIdentifier   string `json:",omitempty"`
	CustomerAWSAccountId string `json:",omitempty"`
	LicenseArn           string `json:",omitempty"`
	Dimension            string
	Quantity             *float64 `json:",omitempty"` // read as a number: a value outside int32 gets AWS's answer, not a decoding error
	Timestamp            float64
	UsageAllocations     json.RawMessage `json:",omitempty"`
}

// Subscribe makes an identity meterable (AWS: an active agreement).
// IssueToken subscribes the identity it issues a token for.
func (m *Metering) Subscribe(id Identity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range identityKeys(id) {
		m.subscribed[k] = id.ProductCode
	}
}

// Unsubscribe makes further records for the identity fail with
// CustomerNotSubscribed (AWS: after unsubscribe-success).
func (m *Metering) Unsubscribe(id Identity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range identityKeys(id) {
		delete(m.subscribed, k)
	}
}

// SetDimensions names a product's metering dimensions; records for other
// dimensions fail the batch with InvalidUsageDimensionException. A product
// without dimensions set accepts any.
func (m *Metering) SetDimensions(productCode string, dims ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := map[string]bool{}
	for _, d := range dims {
		set[d] = true
	}
	m.dimensions[productCode] = set
}

// UnprocessNext puts the next n records into UnprocessedRecords (not billed).
func (m *Metering) UnprocessNext(n int) {
	m.mu.Lock()
	m.unprocess += n
	m.mu.Unlock()
}

// DropNext leaves the next n records out of both Results and
// UnprocessedRecords (not billed), which callers must treat as pending.
func (m *Metering) DropNext(n int) {
	m.mu.Lock()
	m.drop += n
	m.mu.Unlock()
}

// SetLatency makes every BatchMeterUsage call run f once its request is
// read and before it is answered, outside the fake's lock, while its
// records count as in flight: the marketplace's latency, as a test
// simulates it (advancing a fake clock, waiting a little).
func (m *Metering) SetLatency(f func()) {
	m.mu.Lock()
	m.latency = f
	m.mu.Unlock()
}

// InFlightOverlaps lists the records (customer|dimension|hour) that arrived
// while the same record was still in flight in another call: two senders
// at once.
func (m *Metering) InFlightOverlaps() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.overlaps...)
}

// Received counts how often each record (customer|dimension|hour) arrived
// in a BatchMeterUsage call, whatever the answer.
func (m *Metering) Received() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.received))
	for k, n := range m.received {
		out[k] = n
	}
	return out
}

// Metered returns the billed records, oldest first.
func (m *Metering) Metered() []MeteredRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]MeteredRecord, 0, len(m.metered))
	for _, r := range m.metered {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RecordID < out[j].RecordID })
	return out
}

// identityKey is the key of the identity's model (Legacy): a legacy buyer
// is known by product code and CustomerIdentifier even when AWS also gave
// them an account and a license; anyone else by account and license.
func identityKey(id Identity) string {
	if id.Legacy() {
		return "legacy:" + id.ProductCode + ":" + id.CustomerIdentifier
	}
	return "ca:" + id.CustomerAWSAccountID + ":" + id.LicenseArn
}

// identityKeys are the keys a buyer can be metered under. For products
// integrated before the concurrent-agreement model, ResolveCustomer answers
// the CustomerIdentifier AND CustomerAWSAccountId, LicenseArn and
// ProductCode (reference §1, §3), and AWS accepts records under either
// model: "records with ProductCode and records with LicenseArn for one
// customer and hour are billed twice". The fake bills both too, so a test
// sees a double charge in Metered() instead of a refusal that would hide it.
func identityKeys(id Identity) []string {
	out := []string{identityKey(id)}
	if id.Legacy() && id.LicenseArn != "" {
		out = append(out, "ca:"+id.CustomerAWSAccountID+":"+id.LicenseArn)
	}
	return out
}

// maxBatchBody is R1's request size limit.
const maxBatchBody = 1 << 20

// awsError is an error answer of a fake AWS API: the HTTP status, the
// exception type (__type) and its message.
type awsError struct {
	status  int
	code    string
	message string
}

func badRequest(code, message string) *awsError {
	return &awsError{status: http.StatusBadRequest, code: code, message: message}
}

func (e *awsError) write(w http.ResponseWriter) { writeError(w, e.status, e.code, e.message) }

// batchRequest is the body of a BatchMeterUsage call.
type batchRequest struct {
	ProductCode  string
	UsageRecords []usageRecord
}

func (m *Metering) batchMeterUsage(w http.ResponseWriter, r *http.Request) {
	in, bad := readBatchRequest(r)
	if bad != nil {
		bad.write(w)
		return
	}
	// The records are in flight from here until the answer.
	keys, latency := m.startInFlight(in)
	defer m.endInFlight(keys)
	if latency != nil {
		latency()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Validate the whole batch first: any failure here fails it all.
	if bad := m.validateBatch(in, m.now().UTC()); bad != nil {
		bad.write(w)
		return
	}
	results := []any{}
	unprocessed := []any{}
	for _, u := range in.UsageRecords {
		echo := u
		if echo.Quantity == nil {
			zero := 0.0
			echo.Quantity = &zero
		}
		if m.drop > 0 {
			m.drop--
			continue
		}
		if m.unprocess > 0 {
			m.unprocess--
			unprocessed = append(unprocessed, echo)
			continue
		}
		results = append(results, m.meterRecord(in.ProductCode, u, echo))
	}
	writeJSON(w, map[string]any{"Results": results, "UnprocessedRecords": unprocessed})
}

// readBatchRequest reads and decodes a BatchMeterUsage body and applies R1.
func readBatchRequest(r *http.Request) (batchRequest, *awsError) {
	var in batchRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBatchBody+1))
	if err != nil {
		return in, badRequest("ValidationException", "unreadable request")
	}
	if len(body) > maxBatchBody {
		return in, badRequest("ValidationException", "the request must be smaller than 1 MB")
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, badRequest("ValidationException", "malformed request: "+err.Error())
	}
	if n := len(in.UsageRecords); n == 0 || n > 25 {
		return in, badRequest("ValidationException", fmt.Sprintf("UsageRecords must hold 1 to 25 records, not %d", n))
	}
	return in, nil
}

// recordIdentity is the buyer a record of the request names.
func recordIdentity(productCode string, u usageRecord) Identity {
	return Identity{CustomerIdentifier: u.CustomerIdentifier, ProductCode: productCode, CustomerAWSAccountID: u.CustomerAWSAccountId, LicenseArn: u.LicenseArn}
}

// startInFlight counts the request's records (customer|dimension|hour) as
// received and in flight, noting the ones another call has in flight too.
// It answers the keys to hand to endInFlight and the latency to simulate.
func (m *Metering) startInFlight(in batchRequest) ([]string, func()) {
	keys := make([]string, len(in.UsageRecords))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, u := range in.UsageRecords {
		keys[i] = identityKey(recordIdentity(in.ProductCode, u)) + "|" + u.Dimension + "|" + epoch(u.Timestamp).Truncate(time.Hour).Format(time.RFC3339)
		if m.inFlight[keys[i]] > 0 {
			m.overlaps = append(m.overlaps, keys[i])
		}
		m.inFlight[keys[i]]++
		m.received[keys[i]]++
	}
	return keys, m.latency
}

// endInFlight ends what startInFlight began.
func (m *Metering) endInFlight(keys []string) {
	m.mu.Lock()
	for _, k := range keys {
		m.inFlight[k]--
	}
	m.mu.Unlock()
}

// validateBatch checks every record of the request (R2, R3, R4, R5, R9);
// the first failure fails the whole batch. The caller holds m.mu.
func (m *Metering) validateBatch(in batchRequest, now time.Time) *awsError {
	product := in.ProductCode
	for _, u := range in.UsageRecords {
		if bad := validateRecordFields(in.ProductCode, u); bad != nil {
			return bad
		}
		if u.LicenseArn != "" {
			if p, ok := m.subscribed["ca:"+u.CustomerAWSAccountId+":"+u.LicenseArn]; ok {
				if product != "" && p != product {
					return badRequest("InvalidLicenseException", "the licenses in one call must belong to one product")
				}
				product = p
			}
		}
		if dims, ok := m.dimensions[product]; ok && !dims[u.Dimension] {
			return badRequest("InvalidUsageDimensionException", "unknown dimension "+u.Dimension)
		}
		if !inBounds(epoch(u.Timestamp), now) {
			return badRequest("TimestampOutOfBoundsException",
				"a record's Timestamp is in the future, more than 24 hours old, or past the month-end cutoff")
		}
	}
	return nil
}

// validateRecordFields checks the fields of one record on their own: who
// it names (R2), its dimension and its quantity (R9).
func validateRecordFields(productCode string, u usageRecord) *awsError {
	switch {
	case u.LicenseArn != "" && u.CustomerIdentifier != "":
		return badRequest("ValidationException", "a record names a CustomerIdentifier or a LicenseArn, not both")
	case u.LicenseArn != "" && productCode != "":
		return badRequest("InvalidProductCodeException", "a request with LicenseArn records carries no ProductCode")
	case u.LicenseArn == "" && u.CustomerIdentifier == "":
		return badRequest("InvalidCustomerIdentifierException", "a record needs a CustomerIdentifier or a LicenseArn")
	case u.CustomerIdentifier != "" && productCode == "":
		return badRequest("InvalidProductCodeException", "ProductCode is required for CustomerIdentifier records")
	case u.LicenseArn != "" && u.CustomerAWSAccountId == "":
		return badRequest("ValidationException", "CustomerAWSAccountId is required with LicenseArn")
	case u.Dimension == "":
		return badRequest("InvalidUsageDimensionException", "Dimension is required")
	case !validQuantity(u.Quantity):
		return badRequest("ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%v' at 'usageRecords.member.quantity' failed to satisfy constraint: Member must be an integer from 0 to 2147483647", *u.Quantity))
	}
	return nil
}

// validQuantity applies R9: no quantity (zero), or an integer from 0 to
// 2147483647.
func validQuantity(q *float64) bool {
	return q == nil || (*q >= 0 && *q <= math.MaxInt32 && *q == math.Trunc(*q))
}

// meterRecord bills one validated record (R6, R7, R8) and answers its
// result; echo is the record as AWS echoes it (Quantity set). The caller
// holds m.mu.
func (m *Metering) meterRecord(productCode string, u, echo usageRecord) any {
	qty := int32(*echo.Quantity) // within int32: checked by validateRecordFields
	key := identityKey(recordIdentity(productCode, u))
	if _, ok := m.subscribed[key]; !ok {
		return map[string]any{"Status": "CustomerNotSubscribed", "UsageRecord": echo}
	}
	ts := epoch(u.Timestamp)
	hour := ts.Truncate(time.Hour)
	slot := key + "|" + u.Dimension + "|" + hour.Format(time.RFC3339)
	prev, seen := m.metered[slot]
	switch {
	case !seen:
		m.seq++
		rec := &MeteredRecord{Key: key, Dimension: u.Dimension, Hour: hour, Timestamp: ts, Quantity: qty,
			RecordID: fmt.Sprintf("%08d-%s", m.seq, newID()[:12])}
		m.metered[slot] = rec
		if m.log != nil {
			// Written before the answer: what AWS billed is never forgotten.
			b, _ := json.Marshal(rec)
			_, _ = m.log.Write(append(b, '\n'))
		}
		return map[string]any{"Status": "Success", "MeteringRecordId": rec.RecordID, "UsageRecord": echo}
	case prev.Quantity == qty:
		return map[string]any{"Status": "Success", "MeteringRecordId": prev.RecordID, "UsageRecord": echo}
	default:
		return map[string]any{"Status": "DuplicateRecord", "UsageRecord": echo}
	}
}

func epoch(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9)).UTC()
}

// inBounds applies R3 and R4.
func inBounds(ts, now time.Time) bool {
	if ts.After(now.Add(time.Minute)) || now.Sub(ts) > 24*time.Hour {
		return false
	}
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if ts.Before(monthStart) && now.Sub(monthStart) >= 6*time.Hour {
		return false
	}
	return true
}

// PersistTo keeps what the fake billed in a file (one JSON record a line),
// reading back what an earlier run billed, so the simulated AWS remembers
// across restarts of the process it runs in: an identical resend after a
// crash is recognised, as AWS would.
func (m *Metering) PersistTo(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var r MeteredRecord
			if line == "" || json.Unmarshal([]byte(line), &r) != nil {
				continue // a line cut short by a crash
			}
			m.seq++
			slot := r.Key + "|" + r.Dimension + "|" + r.Hour.UTC().Format(time.RFC3339)
			if _, ok := m.metered[slot]; !ok {
				rec := r
				m.metered[slot] = &rec
			}
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		_, _ = f.Write([]byte("\n")) // end a line a crash may have cut short
	}
	m.log = f
	return nil
}

// ReadMetered reads a file written by PersistTo (for tests and tools).
func ReadMetered(path string) ([]MeteredRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []MeteredRecord
	for _, line := range strings.Split(string(b), "\n") {
		var r MeteredRecord
		if line != "" && json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}
