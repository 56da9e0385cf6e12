// Package netguard keeps the HTTP calls an admin can aim (webhook
// endpoints, Slack and Teams incoming webhooks) away from this machine and
// its network: loopback, link-local (cloud metadata), private and other
// special-purpose addresses are refused when the connection is made, that
// is after DNS resolution and on every redirect or reconnect, through the
// dialer's Control hook. Checking the URL when it is saved is only a
// courtesy: a name can resolve elsewhere later.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is returned (wrapped) when a destination is refused.
var ErrRefused = errors.New("destination address refused")

// Policy says which destinations are allowed.
type Policy struct {
	// AllowPrivate lets calls reach loopback, private (RFC 1918, fc00::/7)
	// and shared (100.64.0.0/10) addresses, for sellers whose endpoints run
	// inside their network. Link-local and cloud metadata addresses stay
	// refused either way.
	AllowPrivate bool
}

// always refused: nothing legitimate listens there for a webhook.
var alwaysRefused = prefixes(
	"0.0.0.0/8",          // "this network"
	"169.254.0.0/16",     // link-local, cloud metadata (169.254.169.254)
	"192.0.0.0/24",       // IETF protocol assignments
	"192.0.2.0/24",       // documentation
	"198.18.0.0/15",      // benchmarking
	"198.51.100.0/24",    // documentation
	"203.0.113.0/24",     // documentation
	"224.0.0.0/4",        // multicast
	"240.0.0.0/4",        // reserved, broadcast
	"::/128",             // unspecified
	"64:ff9b:1::/48",     // local-use NAT64
	"100::/64",           // discard
	"2001:db8::/32",      // documentation
	"fe80::/10",          // link-local
	"ff00::/8",           // multicast
	"fd00:ec2::254/128",  // AWS instance metadata over IPv6
	"fd00:ec2::/32",      // AWS Nitro link-local services
	"2001::/32",          // Teredo (can tunnel to anything)
	"2002::/16",          // 6to4 (embeds an IPv4 address)
	"::ffff:0:0:0/96",    // IPv4-translated
	"100.100.100.200/32", // Alibaba Cloud metadata
)

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// refused unless AllowPrivate.
var private = prefixes(
	"127.0.0.0/8",   // loopback
	"10.0.0.0/8",    // private
	"172.16.0.0/12", // private
	"192.168.0.0/16",
	"100.64.0.0/10", // carrier-grade NAT (shared address space)
	"::1/128",       // loopback
	"fc00::/7",      // unique local
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Check says whether an address may be called.
func (p Policy) Check(ip netip.Addr) error {
	ip = ip.Unmap()         // ::ffff:127.0.0.1 is 127.0.0.1
	if nat64.Contains(ip) { // 64:ff9b::7f00:1 reaches 127.0.0.1 through a NAT64 gateway
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:16]))
	}
	if !ip.IsValid() {
		return fmt.Errorf("%w: not an IP address", ErrRefused)
	}
	for _, n := range alwaysRefused {
		if n.Contains(ip) {
			return fmt.Errorf("%w: %s is a link-local, metadata or reserved address", ErrRefused, ip)
		}
	}
	if p.AllowPrivate {
		return nil
	}
	for _, n := range private {
		if n.Contains(ip) {
			return fmt.Errorf("%w: %s is a loopback or private-network address (the server's operator can allow private networks)", ErrRefused, ip)
		}
	}
	return nil
}

// control is the dialer hook: it sees the address actually connected to.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	return p.Check(ap.Addr())
}

// Dialer returns a dialer that refuses what the policy refuses.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.control}
}

// Client returns an HTTP client for admin-aimed calls: it dials through
// the policy, uses no proxy from the environment (the proxy would make the
// connection instead, unchecked), and follows no redirect (a redirect
// answer is returned as is; the caller treats it as a failure).
func (p Policy) Client(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           p.Dialer(5 * time.Second).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          50,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CheckURL checks a URL an admin enters: absolute http(s), no user
// information, and, when its host is an IP address or a name of this
// machine, an address the policy allows. Names are checked again, after
// resolution, on every connection.
func (p Policy) CheckURL(raw string) error {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2000 {
		return errors.New("url must be an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("url must not contain a user name or password")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.Check(ip); err != nil {
			return errors.New("url: " + strings.TrimPrefix(err.Error(), ErrRefused.Error()+": "))
		}
		return nil
	}
	if !p.AllowPrivate && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		return errors.New("url: localhost is this server (the server's operator can allow private networks)")
	}
	return nil
}

// Refused reports whether err (from an HTTP call) is a refused destination.
func Refused(err error) bool { return errors.Is(err, ErrRefused) }
