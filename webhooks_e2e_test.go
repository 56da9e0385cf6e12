package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWebhookSurvivesKill: changes are made while the seller's endpoint is
// down, the binary is killed with SIGKILL before it could deliver them, and
// after a restart every event arrives, signed, in order.
func TestWebhookSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"MARKETGATE_ADMIN_EMAIL=admin@example.com", "MARKETGATE_ADMIN_PASSWORD=webhook-test-password"}
	// The receiver runs on this machine: allow private networks, as a
	// seller with an internal endpoint would.
	s := startOn(t, addr, dir, env, "--sandbox", "--outbound-allow-private")
	base := "http://" + addr
	c := client(t)
	postJSON(t, c, base+"/api/auth/login", `{"email":"admin@example.com","password":"webhook-test-password"}`).Body.Close()

	var mu sync.Mutex
	up := false
	var secret string
	var got []string
	bad := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
		if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
			bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev struct {
			Type string
			Data struct{ Seat struct{ Email string } }
		}
		_ = json.Unmarshal(body, &ev)
		got = append(got, ev.Type+":"+ev.Data.Seat.Email)
	}))
	defer recv.Close()

	var created struct{ Secret string }
	r := postJSON(t, c, base+"/api/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["seat.assigned"]}`, recv.URL))
	decode(t, r, &created)
	mu.Lock()
	secret = created.Secret
	mu.Unlock()

	// A per-user subscription from the sandbox's data.
	var list struct {
		Items []struct{ ID uint } `json:"items"`
	}
	lr, _ := c.Get(base + "/api/subscriptions?state=active&limit=200")
	decode(t, lr, &list)
	var sub uint
	for _, it := range list.Items {
		var d struct {
			Seats *struct{ Free int } `json:"seats"`
		}
		dr, _ := c.Get(fmt.Sprintf("%s/api/subscriptions/%d", base, it.ID))
		decode(t, dr, &d)
		if d.Seats != nil && d.Seats.Free >= 5 {
			sub = it.ID
			break
		}
	}
	if sub == 0 {
		t.Fatal("no per-user subscription with 5 free seats in the sandbox")
	}
	var want []string
	for i := 0; i < 5; i++ {
		email := fmt.Sprintf("user%d@customer.example", i)
		r := postJSON(t, c, fmt.Sprintf("%s/api/subscriptions/%d/seats", base, sub), fmt.Sprintf(`{"user":%q}`, email))
		if r.StatusCode != 201 {
			t.Fatalf("assign: %d", r.StatusCode)
		}
		r.Body.Close()
		want = append(want, "seat.assigned:"+email)
	}
	// Let the dispatcher try (and fail) at least once, then kill it.
	time.Sleep(1500 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil
	mu.Lock()
	if len(got) != 0 {
		t.Fatalf("delivered while the receiver was down: %v", got)
	}
	up = true
	mu.Unlock()

	startOn(t, addr, dir, env, "--sandbox", "--outbound-allow-private")
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != strings.Join(want, ",") || bad != 0 {
		t.Fatalf("after the restart the receiver got %v (want %v), %d bad signatures", got, want, bad)
	}
}
