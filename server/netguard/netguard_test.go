package netguard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/netguard"
)

// Issue 15, finding 8: webhook and alert URLs must not reach loopback,
// link-local (cloud metadata) or private addresses unless the operator
// allows private networks; metadata stays refused either way.
func TestCheckAddresses(t *testing.T) {
	for _, c := range []struct {
		ip                  string
		strict, withPrivate bool // allowed?
	}{
		{"93.184.216.34", true, true},
		{"2606:2800:220:1:248:1893:25c8:1946", true, true},
		{"127.0.0.1", false, true},
		{"127.9.9.9", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"172.31.255.255", false, true},
		{"192.168.1.1", false, true},
		{"100.64.0.1", false, true},
		{"fd12:3456::1", false, true},
		{"169.254.169.254", false, false}, // AWS, Azure, GCP metadata
		{"169.254.170.2", false, false},   // ECS task metadata
		{"fd00:ec2::254", false, false},   // AWS metadata over IPv6
		{"fe80::1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"255.255.255.255", false, false},
		{"64:ff9b::7f00:1", false, true},     // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::1", false, false},     // 6to4 of 127.0.0.1
		{"172.32.0.1", true, true},
	} {
		ip := netip.MustParseAddr(c.ip)
		if got := (netguard.Policy{}).Check(ip) == nil; got != c.strict {
			t.Errorf("%s by default: allowed=%v, want %v", c.ip, got, c.strict)
		}
		if got := (netguard.Policy{AllowPrivate: true}).Check(ip) == nil; got != c.withPrivate {
			t.Errorf("%s with private networks allowed: allowed=%v, want %v", c.ip, got, c.withPrivate)
		}
	}
}

func TestCheckURL(t *testing.T) {
	strict, open := netguard.Policy{}, netguard.Policy{AllowPrivate: true}
	for _, c := range []struct {
		url                 string
		strict, withPrivate bool
	}{
		{"https://hooks.example.com/x", true, true},
		{"http://127.0.0.1:8080/hook", false, true},
		{"http://[::1]/hook", false, true},
		{"http://localhost/hook", false, true},
		{"http://LOCALHOST./hook", false, true},
		{"http://api.localhost/hook", false, true},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"http://10.0.0.7/", false, true},
		{"http://user:pw@hooks.example.com/", false, false},
		{"ftp://hooks.example.com/", false, false},
		{"/relative", false, false},
	} {
		if got := strict.CheckURL(c.url) == nil; got != c.strict {
			t.Errorf("%s by default: allowed=%v, want %v", c.url, got, c.strict)
		}
		if got := open.CheckURL(c.url) == nil; got != c.withPrivate {
			t.Errorf("%s with private networks: allowed=%v, want %v", c.url, got, c.withPrivate)
		}
	}
}

// The check runs when the connection is made: a name that resolves to
// loopback (localhost, from the hosts file) is refused after resolution,
// and the server never sees a request.
func TestClientRefusesAfterResolution(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, u := range []string{srv.URL, byName} {
		res, err := netguard.Policy{}.Client(5*time.Second).Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			res.Body.Close()
			t.Fatalf("%s: answered %d, want refused", u, res.StatusCode)
		}
		if !netguard.Refused(err) || !errors.Is(err, netguard.ErrRefused) {
			t.Fatalf("%s: %v, want a refusal", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server got %d requests", hits.Load())
	}
	// Allowed when the operator allows private networks.
	res, err := netguard.Policy{AllowPrivate: true}.Client(5 * time.Second).Get(byName)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("hits %d, want 1", hits.Load())
	}
}

// A redirect is never followed: the answer comes back as it is, so a
// public endpoint cannot bounce a call to an internal one.
func TestClientFollowsNoRedirect(t *testing.T) {
	var inner atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1) }))
	defer target.Close()
	bounce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/internal", http.StatusTemporaryRedirect)
	}))
	defer bounce.Close()
	res, err := netguard.Policy{AllowPrivate: true}.Client(5*time.Second).Post(bounce.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTemporaryRedirect || inner.Load() != 0 {
		t.Fatalf("status %d, redirect target hit %d times; want 307 and 0", res.StatusCode, inner.Load())
	}
}
