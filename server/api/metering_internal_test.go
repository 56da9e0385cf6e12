package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/marketgate/marketgate/server/metering"
)

// The hand-written usage answer is byte for byte what encoding/json writes.
func TestAppendResultMatchesEncodingJSON(t *testing.T) {
	id := uint(42)
	h := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	for _, r := range []metering.Result{
		{ID: "e1", Status: "accepted", SubscriptionID: &id, Hour: &h},
		{ID: "e2", Status: "accepted", SubscriptionID: &id, Hour: &h, Late: true},
		{ID: "e\"3\\<x>&\u00e9\n", Status: "rejected", Reason: `dimension "gpu" is not metered on plan "std"`},
		{ID: "e4", Status: "duplicate", OriginalStatus: "accepted", SubscriptionID: &id, Hour: &h},
		{ID: "", Status: "rejected", Reason: "id is required"},
		{ID: "e5", Status: "duplicate", OriginalStatus: "rejected", Reason: "too late for its hour: …", Code: metering.CodeHourClosed},
	} {
		want, _ := json.Marshal(r)
		if got := string(appendResult(nil, &r)); got != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// FuzzUsageDecodersAgree: a usage body decodes to the same events, the
// same malformed ones and the same error through goccy/go-json's fast
// pass (what the API uses) as through encoding/json alone. The seeds are
// what a seller's app may send and what a JSON decoder may take its own
// way: duplicate and differently cased keys, escapes, invalid UTF-8, lone
// surrogates, numbers of every shape, null and nested values, trailing
// commas, comments, bodies cut short. `go test` runs the seeds; `go test
// -fuzz FuzzUsageDecodersAgree` looks for more.
func FuzzUsageDecodersAgree(f *testing.F) {
	for _, seed := range []string{
		`{"events":[{"id":"e1","customer":"c1","dimension":"calls","quantity":3,"timestamp":"2026-12-04T10:00:00Z"}]}`,
		`[{"id":"e1","subscription":42,"dimension":"calls","quantity":1.5e2}]`,
		`[{"id":"e1","subscription":"aws:l-1","dimension":"calls","quantity":"3"}]`,
		`[{"id":"e1","subscription":{"x":1},"dimension":"calls","quantity":[1]}]`,
		`[{"id":"e1","subscription":null,"quantity":null,"timestamp":null}]`,
		`[{"ID":"e1","Customer":"c1","DIMENSION":"calls","Quantity":1}]`,
		`[{"id":"e1","id":"e2","quantity":1,"quantity":2}]`,
		`[{"id":"\u00e9\ud800\udc00\ud800","customer":"a\u0000b","dimension":"\\\"/"}]`,
		"[{\"id\":\"\xff\xfe\",\"customer\":\"c\xc3\x28\"}]",
		`[{"id":"e1","quantity":01}]`,
		`[{"id":"e1","quantity":1e400}]`,
		`[{"id":"e1","quantity":-0.0}]`,
		`[{"id":"e1","quantity":NaN}]`,
		`[{"id":"e1","quantity":1,}]`,
		`[{"id":"e1"},]`,
		`[{"id":"e1"} /* c */]`,
		`[{"id":"e1"}`,
		`{"events":[{"id":"e1"}],"events":[{"id":"e2"}]}`,
		`{"events":null}`,
		`{"events":[]}`,
		`{"Events":[{"id":"e1"}]}`,
		`{"events":{"id":"e1"}}`,
		`[{"id":1}]`,
		`[{"id":"e1","timestamp":"2026-12-04T10:00:00+09:00","quantity":2}]`,
		`[{"id":"e1","timestamp":1733306400}]`,
		`[{"id":"e1","extra":{"deep":[1,2,{"a":null}]}}]`,
		`[null]`,
		`[[]]`,
		`["e1"]`,
		` [ { "id" : "e1" , "quantity" : 1 } ] `,
		`[{"id":"e1","quantity":1}] x`,
		`[{"id":"e1","quantity":1}][{"id":"e2"}]`,
		"[{\"id\":\"e\u2028\"}]",
		`[{"\u0069d":"e1"}]`,
		`[{"id":"e1","quantity":true}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fastEvents, fastBad, fastErr := decodeUsage(body, gojson.Unmarshal)
		stdEvents, stdBad, stdErr := decodeUsage(body, json.Unmarshal)
		if (fastErr == nil) != (stdErr == nil) || (fastErr != nil && fastErr.Error() != stdErr.Error()) {
			t.Fatalf("%q: error %v, encoding/json %v", body, fastErr, stdErr)
		}
		if !reflect.DeepEqual(fastEvents, stdEvents) || !reflect.DeepEqual(fastBad, stdBad) {
			t.Fatalf("%q:\n fast %+v %v\n std  %+v %v", body, fastEvents, fastBad, stdEvents, stdBad)
		}
	})
}

// BenchmarkDecodeUsage decodes a batch of 1,000 events as apps send them
// (UUID ids, a customer, a dimension, a quantity and a timestamp) through
// encoding/json's one pass (as before) and through the API's path (encoding/json's
// validator, a UTF-8 check and goccy/go-json), side by side.
func BenchmarkDecodeUsage(b *testing.B) {
	var body strings.Builder
	body.WriteString(`{"events":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"id":"%08x-1b2c-4d3e-8f90-%012x","customer":"cust-%d","dimension":"api_calls","quantity":%d,"timestamp":"2026-12-04T10:%02d:00Z"}`,
			uint32(i)*2654435761, i, i%100, i%5+1, i%60)
	}
	body.WriteString(`]}`)
	in := []byte(body.String())
	for _, c := range []struct {
		name   string
		decode func() ([]metering.Event, error)
	}{
		{"encoding-json", func() ([]metering.Event, error) { // (the one pass alone, as before)
			events, _, _ := decodeUsageBatch(in, json.Unmarshal)
			return events, nil
		}},
		{"api", func() ([]metering.Event, error) {
			events, _, err := decodeUsage(in, gojson.Unmarshal)
			return events, err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				if events, err := c.decode(); err != nil || len(events) != 1000 {
					b.Fatal(len(events), err)
				}
			}
		})
	}
}

// A well-formed batch that is not plain ASCII (a customer reference in
// Japanese) decodes in one pass through encoding/json, not event by event.
func TestUsageBatchWithJapaneseDecodesInOnePass(t *testing.T) {
	body := []byte(`[{"id":"e1","customer":"株式会社テスト","dimension":"calls","quantity":2,"timestamp":"2026-12-04T10:00:00Z"}]`)
	events, malformed, ok := decodeUsageBatch(body, json.Unmarshal)
	if !ok || len(malformed) != 0 || events[0].Customer != "株式会社テスト" {
		t.Fatalf("the one pass: %v %v %+v", ok, malformed, events)
	}
	got, bad, err := decodeUsage(body, func([]byte, any) error {
		t.Fatal("goccy/go-json asked for a body that is not plain ASCII")
		return nil
	})
	if err != nil || len(bad) != 0 || !reflect.DeepEqual(got, events) {
		t.Fatalf("decodeUsage: %+v %v %v", got, bad, err)
	}
}
