package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// End-to-end tests of the real binary: MARKETGATE_BIN (scripts/test.sh
// sets it) or one built here.

var binPath string

func TestMain(m *testing.M) {
	binPath = os.Getenv("MARKETGATE_BIN")
	var tmp string
	if binPath == "" {
		var err error
		tmp, err = os.MkdirTemp("", "marketgate-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binPath = filepath.Join(tmp, "marketgate")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type server struct {
	cmd  *exec.Cmd
	url  string
	out  *syncBuffer
	done chan error
}

// syncBuffer collects the server's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func start(t *testing.T, dataDir string, env []string, args ...string) *server {
	t.Helper()
	return startOn(t, freeAddr(t), dataDir, env, args...)
}

// startOn starts the binary on a given address (a restart keeps its URL).
func startOn(t *testing.T, addr, dataDir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"serve", "--addr", addr, "--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, out: out, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	wait := 60 * time.Second
	if os.Getenv("MARKETGATE_BENCH") != "" {
		wait = 5 * time.Minute // (a sandbox at a million subscriptions loads them into its marketplaces first: about a minute)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			t.Fatalf("marketgate exited early: %v\n%s", err, out)
		default:
		}
		if r, err := http.Get(s.url + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("marketgate did not become healthy\n%s", out)
	return nil
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func postJSON(t *testing.T, c *http.Client, url, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func decode(t *testing.T, r *http.Response, v any) {
	t.Helper()
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestServeSandboxEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, []string{"MARKETGATE_ADMIN_EMAIL=ops@example.com", "MARKETGATE_ADMIN_PASSWORD=end-to-end-password"}, "--sandbox")
	c := client(t)

	// Without a session the API refuses.
	r, _ := c.Get(s.url + "/api/subscriptions")
	if r.StatusCode != 401 {
		t.Fatalf("anonymous list: %d", r.StatusCode)
	}
	r.Body.Close()

	r = postJSON(t, c, s.url+"/api/auth/login", `{"email":"ops@example.com","password":"end-to-end-password"}`)
	if r.StatusCode != 200 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	r.Body.Close()

	var page struct {
		Items []struct {
			ID    int    `json:"id"`
			State string `json:"state"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r, _ = c.Get(s.url + "/api/subscriptions?state=ended&marketplace=aws&limit=10")
	decode(t, r, &page)
	if page.Total == 0 || len(page.Items) == 0 {
		t.Fatalf("sandbox has no ended AWS subscriptions: %+v", page)
	}
	for _, it := range page.Items {
		if it.State != "ended" {
			t.Fatalf("filter returned state %s", it.State)
		}
	}
	var detail struct {
		Subscription struct{ State string } `json:"subscription"`
		Timeline     []struct {
			Kind      string `json:"kind"`
			FromState string `json:"from_state"`
			ToState   string `json:"to_state"`
		} `json:"timeline"`
	}
	r, _ = c.Get(fmt.Sprintf("%s/api/subscriptions/%d", s.url, page.Items[0].ID))
	decode(t, r, &detail)
	if detail.Subscription.State != "ended" || len(detail.Timeline) < 2 {
		t.Fatalf("detail: %+v", detail)
	}
	// The timeline tells how it ended: the last change of state is into
	// "ended", by AWS's word (unsubscribe-success, an agreement that ended,
	// or a contract's entitlements read as expired — AWS also sends
	// entitlement-updated after a contract's cancellation, so a note may
	// follow), and nothing after it moved the state again.
	ending := ""
	for _, e := range detail.Timeline {
		if e.FromState != e.ToState && e.ToState != "" {
			ending = e.Kind + " → " + e.ToState
		}
	}
	switch ending {
	case "aws.unsubscribe_success → ended", "aws.agreement_ended → ended", "aws.entitlements → ended":
	default:
		t.Fatalf("an ended AWS subscription's last change of state is %q: %+v", ending, detail.Timeline)
	}

	r, _ = c.Get(s.url + "/metrics")
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(body), `marketgate_http_requests_total{method="GET",route="/api/subscriptions",status="200"}`) {
		t.Fatalf("metrics lack the request counter:\n%s", body)
	}

	// The portal's routes fall back to the app (or the "not built" page).
	r, _ = c.Get(s.url + "/subscriptions/1")
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("portal route: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	r.Body.Close()

	// How many subscriptions the seed made (the 400 random ones and the
	// demo month's), to compare after a restart.
	var seeded struct{ Total int }
	r, _ = c.Get(s.url + "/api/subscriptions?limit=1")
	decode(t, r, &seeded)
	if seeded.Total < 400 {
		t.Fatalf("the sandbox seeded %d subscriptions, want at least 400", seeded.Total)
	}

	// SIGTERM shuts down cleanly.
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.out)
		}
		s.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}

	// A restart keeps the data and does not seed twice.
	s2 := start(t, dir, []string{"MARKETGATE_ADMIN_EMAIL=ops@example.com", "MARKETGATE_ADMIN_PASSWORD=end-to-end-password"}, "--sandbox")
	c2 := client(t)
	postJSON(t, c2, s2.url+"/api/auth/login", `{"email":"ops@example.com","password":"end-to-end-password"}`).Body.Close()
	var all struct{ Total int }
	r, _ = c2.Get(s2.url + "/api/subscriptions?limit=1")
	decode(t, r, &all)
	if all.Total != seeded.Total {
		t.Fatalf("after restart: %d subscriptions, want the %d seeded once", all.Total, seeded.Total)
	}
}

func TestFirstStartPrintsOneTimePassword(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil)
	m := regexp.MustCompile(`e-mail:\s+(\S+)\s+password:\s+(\S+)`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", s.out)
	}
	c := client(t)
	r := postJSON(t, c, s.url+"/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, m[1], m[2]))
	var me struct {
		User struct {
			MustChange bool `json:"must_change_password"`
		} `json:"user"`
	}
	decode(t, r, &me)
	if !me.User.MustChange {
		t.Fatal("the one-time password does not require a change")
	}
	// Data routes wait for the new password.
	r, _ = c.Get(s.url + "/api/subscriptions")
	if r.StatusCode != 403 {
		t.Fatalf("list before password change: %d", r.StatusCode)
	}
	r.Body.Close()
	r = postJSON(t, c, s.url+"/api/auth/password", fmt.Sprintf(`{"current_password":%q,"new_password":"my-own-password-1"}`, m[2]))
	if r.StatusCode != 204 {
		t.Fatalf("password change: %d", r.StatusCode)
	}
	r, _ = c.Get(s.url + "/api/subscriptions")
	if r.StatusCode != 200 {
		t.Fatalf("list after password change: %d", r.StatusCode)
	}
	r.Body.Close()

	// A second start prints no password.
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
	s.done <- nil
	s2 := start(t, dir, nil)
	if strings.Contains(s2.out.String(), "one-time password") {
		t.Fatal("a second start printed a password again")
	}
}

func run(t *testing.T, stdin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"version", "", []string{"version"}, 0, "marketgate "},
		{"no command", "", nil, 2, "Usage:"},
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"serve help", "", []string{"serve", "--help"}, 0, "MARKETGATE_DATABASE_URL"},
		{"bad flag", "", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"bad sandbox value", "", []string{"serve", "--data-dir", dir, "--sandbox=maybe"}, 2, "invalid boolean"},
		// Issue 15, finding 12: the sandbox's simulated Entra signs anyone in as anyone.
		{"sandbox on a public address", "", []string{"serve", "--data-dir", filepath.Join(dir, "sb"), "--sandbox", "--addr", "0.0.0.0:0"}, 2, "not a loopback address"},
		{"sns verification in the sandbox", "", []string{"serve", "--data-dir", dir, "--sandbox", "--aws-sns-verify"}, 2, "cannot be used with --sandbox"},
		{"insecure webhook against Microsoft", "", []string{"serve", "--data-dir", filepath.Join(dir, "ms"), "--azure-tenant-id", "t", "--azure-client-id", "c",
			"--azure-client-secret", "s", "--azure-webhook-insecure"}, 2, "refused when the API URL is https"},
		{"half a Microsoft configuration", "", []string{"serve", "--data-dir", filepath.Join(dir, "ms"), "--azure-tenant-id", "t"}, 2, "set all of --azure-tenant-id"},
		{"migrate status before", "", []string{"migrate", "--data-dir", dir, "--status"}, 0, "pending: 202611240001_initial"},
		{"migrate", "", []string{"migrate", "--data-dir", dir}, 0, "migration(s); database is up to date"},
		{"backup help", "", []string{"backup", "--help"}, 0, "VACUUM INTO"},
		{"migrate again", "", []string{"migrate", "--data-dir", dir}, 0, "applied 0 migration"},
		{"user add from stdin", "a-long-password\n", []string{"user", "add", "--data-dir", dir, "--email", "Viewer@Example.com", "--role", "viewer", "--password-stdin"}, 0, "viewer@example.com (viewer)"},
		{"user add duplicate", "a-long-password\n", []string{"user", "add", "--data-dir", dir, "--email", "viewer@example.com", "--role", "viewer", "--password-stdin"}, 1, "already exists"},
		{"user add bad role", "", []string{"user", "add", "--data-dir", dir, "--email", "x@example.com", "--role", "root", "--password", "a-long-password"}, 2, "--role must be one of"},
		{"user add short password", "", []string{"user", "add", "--data-dir", dir, "--email", "x@example.com", "--role", "admin", "--password", "short"}, 2, "at least 10 characters"},
		{"customer admin needs customer", "", []string{"user", "add", "--data-dir", dir, "--email", "x@example.com", "--role", "customer_admin", "--password", "a-long-password"}, 2, "--customer is required"},
		{"apikey create", "", []string{"apikey", "create", "--data-dir", dir, "--name", "billing app"}, 0, "mgk_"},
		{"apikey create without name", "", []string{"apikey", "create", "--data-dir", dir}, 2, "--name is required"},
		{"apikey list", "", []string{"apikey", "list", "--data-dir", dir}, 0, "billing app\tactive\tnever used"},
		{"customer admin unknown customer", "", []string{"user", "add", "--data-dir", dir, "--email", "x@example.com", "--role", "customer_admin", "--customer", "999", "--password", "a-long-password"}, 1, "customer 999 does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := run(t, c.stdin, nil, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d (want %d), output:\n%s\nwant it to contain %q", code, c.code, out, c.want)
			}
		})
	}

	// The user added above can sign in to a server on the same data.
	s := start(t, dir, nil)
	r := postJSON(t, client(t), s.url+"/api/auth/login", `{"email":"viewer@example.com","password":"a-long-password"}`)
	if r.StatusCode != 200 {
		t.Fatalf("login as the added user: %d", r.StatusCode)
	}
	r.Body.Close()
	sc := bufio.NewScanner(strings.NewReader(s.out.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "one-time password") {
			t.Fatal("a one-time admin was created although users exist")
		}
	}
}

func TestAdminFromEnvironmentFile(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("password-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, filepath.Join(dir, "data"), []string{"MARKETGATE_ADMIN_EMAIL=file@example.com", "MARKETGATE_ADMIN_PASSWORD_FILE=" + pwFile})
	r := postJSON(t, client(t), s.url+"/api/auth/login", `{"email":"file@example.com","password":"password-from-a-file"}`)
	if r.StatusCode != 200 {
		t.Fatalf("login with the password from the file: %d", r.StatusCode)
	}
	r.Body.Close()
}

// sandboxBuyer acts as an AWS buyer on a sandbox server: subscribe to an
// offer on the simulated AWS Marketplace, register, create the account. It
// returns the buyer's client (signed in as the customer admin) and a
// function that posts a same-origin form.
func sandboxBuyer(t *testing.T, s *server, offer string, trial bool, email string) (*http.Client, func(string, url.Values) *http.Response) {
	t.Helper()
	c := client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := func(path string, v url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := form("/sandbox/aws/subscribe", url.Values{"offer": {offer}, "trial": {fmt.Sprint(trial)}})
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	m := regexp.MustCompile(`name="x-amzn-marketplace-token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no token on the sandbox page:\n%s", page)
	}
	reg := url.Values{"x-amzn-marketplace-token": {string(m[1])}}
	if trial {
		reg.Set("x-amzn-marketplace-offer-type", "free-trial")
	}
	r = form("/marketplace/aws/register", reg)
	r.Body.Close()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/marketplace/aws/onboarding?ticket=") {
		t.Fatalf("register: %d %s", r.StatusCode, loc)
	}
	ticket, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/marketplace/aws/onboarding?ticket="))
	r = form("/marketplace/aws/onboarding", url.Values{"ticket": {ticket}, "company": {"Journey Ltd"}, "name": {"Jo"},
		"email": {email}, "password": {"journey-password"}})
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("onboarding: %d", r.StatusCode)
	}
	return c, form
}

// eventually polls check until it reports true, for up to 30 seconds (the
// notifications travel through the simulated SQS queue).
func eventually(t *testing.T, s *server, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen\n%s", what, s.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The AWS buyer's journey in the sandbox: subscribe on the simulated AWS
// Marketplace, register, create the account, and see AWS's confirmation
// arrive through the SQS queue.
func TestSandboxAWSBuyerJourney(t *testing.T) {
	s := start(t, t.TempDir(), nil, "--sandbox")
	c, form := sandboxBuyer(t, s, "1", true, "jo@journey.example")
	type item struct {
		ID        uint   `json:"id"`
		State     string `json:"state"`
		FreeTrial bool   `json:"free_trial"`
	}
	mine := func() item {
		var list struct{ Items []item }
		r, err := c.Get(s.url + "/api/subscriptions")
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &list)
		if len(list.Items) != 1 {
			return item{}
		}
		return list.Items[0]
	}
	eventually(t, s, "the free trial becoming active", func() bool { it := mine(); return it.State == "active" && it.FreeTrial })
	// The buyer cancels: unsubscribe-pending now, unsubscribe-success when
	// the simulated AWS completes the cancellation a few seconds later.
	r := form("/sandbox/aws/notify", url.Values{"subscription": {fmt.Sprint(mine().ID)}, "action": {"cancel"}})
	r.Body.Close()
	eventually(t, s, "unsubscribe-pending", func() bool { st := mine().State; return st == "unsubscribe_pending" || st == "ended" })
	eventually(t, s, "the cancellation completing", func() bool { return mine().State == "ended" })
}

// A contract on a concurrent-agreements product, bought, upgraded and left
// to expire on the simulated AWS Marketplace: EventBridge agreement and
// license events, entitlements read with the real SDK client.
func TestSandboxAWSContractJourney(t *testing.T) {
	s := start(t, t.TempDir(), nil, "--sandbox")
	c, form := sandboxBuyer(t, s, "2", false, "ken@contract.example")
	type detail struct {
		Subscription struct {
			ID    uint   `json:"id"`
			State string `json:"state"`
		} `json:"subscription"`
		Entitlements []struct {
			Dimension string `json:"dimension"`
			Value     string `json:"value"`
		} `json:"entitlements"`
		Agreements []struct {
			AgreementID string `json:"agreement_id"`
			Intent      string `json:"intent"`
			Status      string `json:"status"`
		} `json:"agreements"`
	}
	var id uint
	read := func() detail {
		t.Helper()
		if id == 0 {
			var list struct {
				Items []struct {
					ID uint `json:"id"`
				} `json:"items"`
			}
			r, err := c.Get(s.url + "/api/subscriptions")
			if err != nil {
				t.Fatal(err)
			}
			decode(t, r, &list)
			if len(list.Items) != 1 {
				return detail{}
			}
			id = list.Items[0].ID
		}
		var d detail
		r, err := c.Get(fmt.Sprintf("%s/api/subscriptions/%d", s.url, id))
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &d)
		return d
	}
	valuesAre := func(d detail, v string) bool {
		if len(d.Entitlements) == 0 {
			return false
		}
		for _, e := range d.Entitlements {
			if e.Value != v {
				return false
			}
		}
		return true
	}
	eventually(t, s, "the contract becoming active with 10 of each dimension", func() bool {
		d := read()
		return d.Subscription.State == "active" && valuesAre(d, "10") && len(d.Agreements) == 1 &&
			d.Agreements[0].Intent == "NEW" && d.Agreements[0].Status == "ACTIVE"
	})
	act := func(action string) {
		t.Helper()
		r := form("/sandbox/aws/notify", url.Values{"subscription": {fmt.Sprint(id)}, "action": {action}})
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("sandbox %s: %d", action, r.StatusCode)
		}
	}
	act("upgrade")
	eventually(t, s, "the upgrade to 20", func() bool { d := read(); return d.Subscription.State == "active" && valuesAre(d, "20") })
	act("expire")
	eventually(t, s, "the expiry", func() bool {
		d := read()
		return d.Subscription.State == "ended" && len(d.Agreements) == 1 && d.Agreements[0].Status == "EXPIRED"
	})
}

// A free-trial purchase of a concurrent-agreements product in the sandbox:
// the simulated Agreement Service answers GetAgreementTerms with a 14-day
// FreeTrialPricingTerm, which the subscription shows; then the buyer page
// sends agreement events that change no state, and each lands on the
// subscription's timeline (the real binary, the real SDK clients, the
// simulated SQS queue).
func TestSandboxAWSAgreementEventsAndFreeTrial(t *testing.T) {
	s := start(t, t.TempDir(), nil, "--sandbox")
	// Offer 5: the concurrent-agreements SaaS subscription product (a free
	// trial is offered on subscriptions; offer 2 is a contract).
	c, form := sandboxBuyer(t, s, "5", true, "tia@trial.example")
	type detail struct {
		Subscription struct {
			ID    uint   `json:"id"`
			State string `json:"state"`
		} `json:"subscription"`
		FreeTrial *struct {
			Status string     `json:"status"`
			Days   *int       `json:"days"`
			EndsAt *time.Time `json:"ends_at"`
		} `json:"free_trial"`
		Timeline []struct {
			Kind    string `json:"kind"`
			Summary string `json:"summary"`
		} `json:"timeline"`
	}
	var id uint
	read := func() detail {
		t.Helper()
		if id == 0 {
			var list struct {
				Items []struct {
					ID uint `json:"id"`
				} `json:"items"`
			}
			r, err := c.Get(s.url + "/api/subscriptions")
			if err != nil {
				t.Fatal(err)
			}
			decode(t, r, &list)
			if len(list.Items) != 1 {
				return detail{}
			}
			id = list.Items[0].ID
		}
		var d detail
		r, err := c.Get(fmt.Sprintf("%s/api/subscriptions/%d", s.url, id))
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &d)
		return d
	}
	eventually(t, s, "the 14-day free trial from the agreement's terms", func() bool {
		d := read()
		return d.Subscription.State == "active" && d.FreeTrial != nil && d.FreeTrial.Status == "active" &&
			d.FreeTrial.Days != nil && *d.FreeTrial.Days == 14 && d.FreeTrial.EndsAt != nil
	})
	for _, ev := range []struct{ detailType, kind string }{
		{"Purchase Agreement Advisory Issued", "aws.advisory_issued"},
		{"Agreement Cancellation Request Pending Approval", "aws.cancellation_request"},
		{"Purchase Agreement Disbursement Paused", "aws.disbursement_paused"},
	} {
		r := form("/sandbox/aws/notify", url.Values{"subscription": {fmt.Sprint(id)}, "action": {"agreement-event"}, "event": {ev.detailType}})
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("sandbox %s: %d", ev.detailType, r.StatusCode)
		}
		eventually(t, s, ev.detailType+" on the timeline", func() bool {
			for _, e := range read().Timeline {
				if e.Kind == ev.kind {
					return true
				}
			}
			return false
		})
	}
	if d := read(); d.Subscription.State != "active" {
		t.Fatalf("agreement notes changed the state: %s", d.Subscription.State)
	}
}

// The Microsoft buyer's journey in the sandbox: purchase on the simulated
// marketplace, land, sign in with the simulated Entra ID, get activated,
// then suspend from the customer side, which calls our webhook.
func TestSandboxMicrosoftBuyerJourney(t *testing.T) {
	s := start(t, t.TempDir(), nil, "--sandbox")
	c := client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		if !strings.HasPrefix(u, "http") {
			u = s.url + u
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r, string(b)
	}
	r, _ := do(http.MethodPost, "/sandbox/azure/purchase", url.Values{"offer": {"acme-analytics-saas"}, "plan": {"silver"},
		"quantity": {"1"}, "name": {"Megan Bowen"}, "organization": {"Contoso"}})
	landing := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(landing, "/marketplace/azure/landing?token=") {
		t.Fatalf("purchase: %d %s", r.StatusCode, landing)
	}
	r, _ = do(http.MethodGet, landing, nil)
	authorize := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.Contains(authorize, "/sandbox/azure/entra/organizations/oauth2/v2.0/authorize") {
		t.Fatalf("landing: %d %s", r.StatusCode, authorize)
	}
	_, page := do(http.MethodGet, authorize, nil)
	// The buyer signs in as themself: the newest known user.
	forms := regexp.MustCompile(`(?s)<form method="post">(.*?)</form>`).FindAllStringSubmatch(page, -1)
	if len(forms) < 2 {
		t.Fatalf("sign-in page:\n%s", page)
	}
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(forms[1][1], -1) {
		fields.Set(m[1], html.UnescapeString(m[2]))
	}
	if !strings.Contains(fields.Get("email"), "megan@contoso") {
		t.Fatalf("the newest known user is not the buyer: %v", fields)
	}
	r, _ = do(http.MethodPost, authorize, fields)
	callback := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(callback, "/marketplace/azure/callback?") {
		t.Fatalf("sign-in: %d %s", r.StatusCode, callback)
	}
	r, body := do(http.MethodGet, callback, nil)
	welcome := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(welcome, "/marketplace/azure/welcome?subscription=") {
		t.Fatalf("callback: %d %s\n%s\n%s", r.StatusCode, welcome, body, s.out)
	}
	if _, page = do(http.MethodGet, welcome, nil); !strings.Contains(page, "Getting started") {
		t.Fatalf("welcome:\n%s\n%s", page, s.out)
	}
	id := strings.TrimPrefix(welcome, "/marketplace/azure/welcome?subscription=")
	state := func() string {
		var d struct {
			Subscription struct{ State string } `json:"subscription"`
		}
		r, err := c.Get(s.url + "/api/subscriptions/" + id)
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &d)
		return d.Subscription.State
	}
	if st := state(); st != "active" {
		t.Fatalf("after landing: %s", st)
	}
	if r, _ = do(http.MethodPost, "/sandbox/azure/act", url.Values{"subscription": {id}, "action": {"Suspend"}}); r.StatusCode != http.StatusSeeOther ||
		!strings.Contains(r.Header.Get("Location"), "sent") {
		t.Fatalf("suspend: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	eventually(t, s, "the suspension through the webhook", func() bool { return state() == "suspended" })
}

// Crash safety of metering: the real binary in sandbox mode gets usage
// continuously and is killed (SIGKILL) at random points 20 times, during
// ingestion, sealing and dispatch, and restarted each time. Afterwards the
// simulated AWS (which remembers across restarts) must hold, for every
// (subscription, dimension, hour), exactly one billed quantity, equal to
// the sum of the usage Marketgate accepted; no hour may be missing.
func TestMeteringSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the binary 20 times")
	}
	dir := t.TempDir()
	out, code := run(t, "", nil, "apikey", "create", "--data-dir", dir, "--name", "crash test", "--scopes", "usage")
	key := regexp.MustCompile(`mgk_[A-Za-z0-9_-]+`).FindString(out)
	if code != 0 || key == "" {
		t.Fatalf("apikey create: %d %s", code, out)
	}
	addr := freeAddr(t)
	env := []string{"MARKETGATE_ADMIN_EMAIL=admin@example.com", "MARKETGATE_ADMIN_PASSWORD=crash-test-password"}
	args := []string{"--sandbox", "--metering-grace", "1m"}
	var mu sync.Mutex
	cur := startOn(t, addr, dir, env, args...)
	base := "http://" + addr

	// Active AWS subscriptions of the legacy offer (its plan meters api_calls and storage_gb).
	c := client(t)
	r := postJSON(t, c, base+"/api/auth/login", `{"email":"admin@example.com","password":"crash-test-password"}`)
	r.Body.Close()
	var list struct {
		Items []struct {
			ID                    uint   `json:"id"`
			AWSCustomerIdentifier string `json:"aws_customer_identifier"`
			AWSProductCode        string `json:"aws_product_code"`
			Offer                 struct {
				MarketplaceID string `json:"marketplace_id"`
			} `json:"offer"`
		} `json:"items"`
	}
	lr, err := c.Get(base + "/api/subscriptions?marketplace=aws&state=active&limit=200")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, lr, &list)
	keyOf := map[uint]string{}
	var customers []string
	for _, it := range list.Items {
		if it.Offer.MarketplaceID == "acme4analytics7legacy" && it.AWSCustomerIdentifier != "" && len(customers) < 12 && unmetered(t, c, base, it.ID) {
			keyOf[it.ID] = "legacy:" + it.AWSProductCode + ":" + it.AWSCustomerIdentifier
			customers = append(customers, it.AWSCustomerIdentifier)
		}
	}
	if len(customers) < 3 {
		t.Fatalf("only %d meterable subscriptions in the sandbox", len(customers))
	}

	type slot struct {
		sub  uint
		dim  string
		hour int64
	}
	expected := map[slot]float64{}
	stop := make(chan struct{})
	fed := make(chan int)
	go func() {
		hc := &http.Client{Timeout: 5 * time.Second}
		batches := 0
		for {
			select {
			case <-stop:
				fed <- batches
				return
			default:
			}
			now := time.Now().UTC()
			var evs []string
			for i := 0; i < 40; i++ {
				cust := customers[(batches*7+i)%len(customers)]
				dim := []string{"api_calls", "storage_gb"}[i%2]
				ts := now.Add(-time.Duration(2+(batches+i)%5)*time.Hour - time.Duration(i)*time.Minute)
				evs = append(evs, fmt.Sprintf(`{"id":"b%d-%d","customer":%q,"dimension":%q,"quantity":%d,"timestamp":%q}`,
					batches, i, cust, dim, 1+(batches+i)%9, ts.Format(time.RFC3339)))
			}
			body := "[" + strings.Join(evs, ",") + "]"
			// Deliver this batch whatever happens to the server: the ids make retries safe.
			for attempt := 0; ; attempt++ {
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/usage", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				if err == nil && res.StatusCode == 200 {
					var got struct {
						Results []struct {
							Status         string     `json:"status"`
							OriginalStatus string     `json:"original_status"`
							SubscriptionID *uint      `json:"subscription_id"`
							Hour           *time.Time `json:"hour"`
						} `json:"results"`
					}
					derr := json.NewDecoder(res.Body).Decode(&got)
					res.Body.Close()
					if derr != nil || len(got.Results) != len(evs) {
						// Killed while answering: ask again (the ids make it safe).
						time.Sleep(30 * time.Millisecond)
						continue
					}
					mu.Lock()
					for i, r := range got.Results {
						if r.Status == "accepted" || (r.Status == "duplicate" && r.OriginalStatus == "accepted") {
							var q float64
							_, _ = fmt.Sscanf(regexp.MustCompile(`"quantity":(\d+)`).FindStringSubmatch(evs[i])[1], "%g", &q)
							expected[slot{*r.SubscriptionID, []string{"api_calls", "storage_gb"}[i%2], r.Hour.Unix()}] += q
						}
					}
					mu.Unlock()
					break
				}
				if res != nil {
					res.Body.Close()
				}
				time.Sleep(30 * time.Millisecond)
			}
			batches++
		}
	}()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; i < 20; i++ {
		time.Sleep(time.Duration(150+rng.IntN(700)) * time.Millisecond)
		_ = cur.cmd.Process.Signal(syscall.SIGKILL)
		<-cur.done
		cur.done <- nil // for the cleanup
		cur = startOn(t, addr, dir, env, args...)
	}
	close(stop)
	n := <-fed
	if n < 10 {
		t.Fatalf("only %d batches were delivered", n)
	}

	// Let it finish: every slot with usage reaches the simulated AWS.
	path := filepath.Join(dir, "sandbox-aws-metered.jsonl")
	type billed struct {
		Key, Dimension string
		Hour           time.Time
		Quantity       int32
	}
	var recs []billed
	deadline := time.Now().Add(120 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		recs = recs[:0]
		have := map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			var r billed
			if json.Unmarshal([]byte(line), &r) == nil && r.Key != "" {
				recs = append(recs, r)
				have[fmt.Sprintf("%s|%s|%d", r.Key, r.Dimension, r.Hour.Unix())] = true
			}
		}
		missing := 0
		var examples []string
		current := time.Now().UTC().Truncate(time.Hour).Unix()
		mu.Lock()
		for s := range expected {
			if s.hour >= current {
				continue // late usage, counted in the open hour: checked below
			}
			if !have[fmt.Sprintf("%s|%s|%d", keyOf[s.sub], s.dim, s.hour)] {
				missing++
				if len(examples) < 5 {
					examples = append(examples, fmt.Sprintf("%d/%s/%s", s.sub, s.dim, time.Unix(s.hour, 0).UTC().Format(time.RFC3339)))
				}
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d (subscription, dimension, hour) never reached AWS, e.g. %v\n%s", missing, len(expected), examples, cur.out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Exactly one quantity per slot, equal to the accepted usage.
	billedQ := map[string]map[int32]bool{}
	for _, r := range recs {
		k := fmt.Sprintf("%s|%s|%d", r.Key, r.Dimension, r.Hour.Unix())
		if billedQ[k] == nil {
			billedQ[k] = map[int32]bool{}
		}
		billedQ[k][r.Quantity] = true
	}
	for k, qs := range billedQ {
		if len(qs) != 1 {
			t.Errorf("%s billed with %d different quantities: %v", k, len(qs), qs)
		}
	}
	// Usage for hours sealed before it arrived counts, late, in the hour
	// that is still open; it is billed when that hour ends. Until then it
	// must be held there in full.
	current := time.Now().UTC().Truncate(time.Hour)
	late := 0
	for s, q := range expected {
		if s.hour >= current.Unix() {
			late++
			var report struct {
				Dimensions []struct {
					Key     string `json:"key"`
					Buckets []struct {
						At   time.Time `json:"at"`
						Used float64   `json:"used"`
					} `json:"buckets"`
				} `json:"dimensions"`
			}
			from := time.Unix(s.hour, 0).UTC()
			r, err := c.Get(fmt.Sprintf("%s/api/subscriptions/%d/usage?granularity=hour&from=%s&to=%s", base, s.sub,
				url.QueryEscape(from.Format(time.RFC3339)), url.QueryEscape(from.Add(time.Hour).Format(time.RFC3339))))
			if err != nil {
				t.Fatal(err)
			}
			decode(t, r, &report)
			held := -1.0
			for _, d := range report.Dimensions {
				for _, b := range d.Buckets {
					if d.Key == s.dim && b.At.Unix() == s.hour {
						held = b.Used
					}
				}
			}
			if held != q {
				t.Errorf("open hour %d/%s: accepted %g, held %g", s.sub, s.dim, q, held)
			}
			continue
		}
		k := fmt.Sprintf("%s|%s|%d", keyOf[s.sub], s.dim, s.hour)
		if !billedQ[k][int32(q)] {
			t.Errorf("%s: accepted %g, billed %v", k, q, billedQ[k])
		}
	}
	t.Logf("%d batches of 40 events, %d (subscription, dimension, hour) slots (%d late, in the open hour), %d records billed, 20 kills",
		n, len(expected), late, len(recs))
}

// Two replicas on one Postgres never send the same record twice: each runs
// its own simulated AWS, and every (customer, dimension, hour) must reach
// exactly one of them, once.
// unmetered says whether a sandbox subscription has had no usage in the
// last three days: the sandbox's demo month meters a few subscriptions up
// to the present hour, and the tests that count usage exactly use the
// others.
func unmetered(t *testing.T, c *http.Client, base string, id uint) bool {
	t.Helper()
	now := time.Now().UTC()
	r, err := c.Get(fmt.Sprintf("%s/api/subscriptions/%d/usage?granularity=day&from=%s&to=%s", base, id,
		url.QueryEscape(now.Add(-72*time.Hour).Format(time.RFC3339)), url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))))
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Dimensions []struct {
			Buckets []struct {
				Used float64 `json:"used"`
			} `json:"buckets"`
		} `json:"dimensions"`
	}
	decode(t, r, &report)
	for _, d := range report.Dimensions {
		for _, b := range d.Buckets {
			if b.Used != 0 {
				return false
			}
		}
	}
	return true
}

func TestTwoReplicasOnPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " is not set")
	}
	cfg := storetest.Config(t, store.Postgres)
	db := []string{"--database-url", cfg.DatabaseURL}
	out, code := run(t, "", nil, append([]string{"apikey", "create", "--name", "replicas", "--scopes", "usage"}, db...)...)
	key := regexp.MustCompile(`mgk_[A-Za-z0-9_-]+`).FindString(out)
	if code != 0 || key == "" {
		t.Fatalf("apikey create: %d %s", code, out)
	}
	env := []string{"MARKETGATE_ADMIN_EMAIL=admin@example.com", "MARKETGATE_ADMIN_PASSWORD=replica-password"}
	// Small claims, so both replicas dispatch in the same moments.
	args := append([]string{"--sandbox", "--metering-grace", "1m", "--metering-claim", "10", "--sandbox-latency", "400ms"}, db...)
	dirs := []string{t.TempDir(), t.TempDir()}
	a := start(t, dirs[0], env, args...)
	b := start(t, dirs[1], env, args...)

	c := client(t)
	r := postJSON(t, c, a.url+"/api/auth/login", `{"email":"admin@example.com","password":"replica-password"}`)
	r.Body.Close()
	var list struct {
		Items []struct {
			ID                    uint   `json:"id"`
			AWSCustomerIdentifier string `json:"aws_customer_identifier"`
			Offer                 struct {
				MarketplaceID string `json:"marketplace_id"`
			} `json:"offer"`
		} `json:"items"`
	}
	lr, err := c.Get(a.url + "/api/subscriptions?marketplace=aws&state=active&limit=200")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, lr, &list)
	var customers []string
	for _, it := range list.Items {
		if it.Offer.MarketplaceID == "acme4analytics7legacy" && it.AWSCustomerIdentifier != "" && len(customers) < 10 && unmetered(t, c, a.url, it.ID) {
			customers = append(customers, it.AWSCustomerIdentifier)
		}
	}
	// Usage through both replicas, for hours that are over.
	now := time.Now().UTC()
	wantSlots := map[string]bool{}
	for batch := 0; batch < 40; batch++ {
		var evs []string
		for i := 0; i < 50; i++ {
			cust := customers[(batch+i)%len(customers)]
			dim := []string{"api_calls", "storage_gb"}[i%2]
			ts := now.Add(-time.Duration(2+(batch+i)%4) * time.Hour).Truncate(time.Hour).Add(time.Duration(i) * time.Minute)
			evs = append(evs, fmt.Sprintf(`{"id":"r%d-%d","customer":%q,"dimension":%q,"quantity":1,"timestamp":%q}`, batch, i, cust, dim, ts.Format(time.RFC3339)))
			wantSlots[fmt.Sprintf("legacy:acme4analytics7legacy:%s|%s|%d", cust, dim, ts.Truncate(time.Hour).Unix())] = true
		}
		target := []*server{a, b}[batch%2]
		req, _ := http.NewRequest(http.MethodPost, target.url+"/api/v1/usage", strings.NewReader("["+strings.Join(evs, ",")+"]"))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("usage to replica %d: %v", batch%2, err)
		}
		res.Body.Close()
	}
	// Wait until every slot with usage is billed somewhere.
	read := func() map[string][]string {
		seen := map[string][]string{}
		for i, d := range dirs {
			recs, _ := awsfake.ReadMetered(filepath.Join(d, "sandbox-aws-metered.jsonl"))
			for _, r := range recs {
				k := fmt.Sprintf("%s|%s|%d", r.Key, r.Dimension, r.Hour.Unix())
				seen[k] = append(seen[k], fmt.Sprintf("replica %d: %d", i, r.Quantity))
			}
		}
		return seen
	}
	deadline := time.Now().Add(120 * time.Second)
	var seen map[string][]string
	for {
		seen = read()
		missing := 0
		for k := range wantSlots {
			if len(seen[k]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slots never billed\n%s\n%s", missing, len(wantSlots), a.out, b.out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(6 * time.Second) // one more dispatch round on both replicas
	seen = read()
	perReplica := [2]int{}
	for k, sends := range seen {
		if len(sends) != 1 {
			t.Errorf("%s was sent %d times: %v", k, len(sends), sends)
		}
		if strings.HasPrefix(sends[0], "replica 0") {
			perReplica[0]++
		} else {
			perReplica[1]++
		}
	}
	t.Logf("%d records billed once each; replica 0 sent %d, replica 1 sent %d", len(seen), perReplica[0], perReplica[1])
}

// Issue 15, finding 12: "/metrics is open to anyone". With --metrics-addr
// it is served only there (and with --metrics-token only to the bearer);
// --sandbox-public lets the sandbox listen beyond loopback, loudly.
func TestMetricsAddressTokenAndPublicSandbox(t *testing.T) {
	maddr := freeAddr(t)
	s := start(t, t.TempDir(), nil, "--metrics-addr", maddr, "--metrics-token", "scrape-secret")
	if r, err := http.Get(s.url + "/metrics"); err != nil || r.StatusCode != 404 {
		t.Fatalf("metrics on the main address: %v %v", err, r)
	}
	if r, err := http.Get("http://" + maddr + "/metrics"); err != nil || r.StatusCode != 401 {
		t.Fatalf("metrics without the token: %v %v", err, r)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+maddr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-secret")
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("metrics with the token: %v %v", err, r)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(body), "marketgate_http_requests_total") {
		t.Fatalf("metrics body: %.300s", body)
	}

	_, port, _ := net.SplitHostPort(freeAddr(t))
	dir := t.TempDir()
	sb := startOn(t, "127.0.0.1:"+port, dir, nil, "--sandbox")
	_ = sb.cmd.Process.Kill()
	<-sb.done
	sb.done <- nil // the cleanup waits once more
	pub := startOn(t, "0.0.0.0:"+port, dir, nil, "--sandbox", "--sandbox-public")
	if !strings.Contains(pub.out.String(), "SANDBOX ON A NON-LOOPBACK ADDRESS") {
		t.Fatalf("no loud warning:\n%s", pub.out)
	}
}

// TestBackupWhileServingRestores: `marketgate backup` copies the database
// of a running server (the sandbox, with its buyers and their usage going
// on); the copy, put in a new data directory, is a server the same people
// sign in to and that holds the same subscriptions.
func TestBackupWhileServingRestores(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil, "--sandbox")
	c, _ := sandboxBuyer(t, s, "1", false, "backup@journey.example")
	type item struct {
		ID       uint   `json:"id"`
		State    string `json:"state"`
		Customer *struct {
			ID uint `json:"id"`
		} `json:"customer"`
		Plan *struct {
			ID uint `json:"id"`
		} `json:"plan"`
	}
	var before struct {
		Items []item `json:"items"`
	}
	eventually(t, s, "the subscription becoming active", func() bool {
		r, err := c.Get(s.url + "/api/subscriptions")
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &before)
		return len(before.Items) == 1 && before.Items[0].State == "active"
	})
	sub := before.Items[0]
	_, dimension := usageTarget(t, s, c)
	key := apiKey(t, dir, "usage")

	// The seller's app reports usage, batch after batch, while the backup
	// is taken: every batch acknowledged before the backup started must be
	// in it; none acknowledged after it ended can be.
	var mu sync.Mutex
	acked := 0 // events acknowledged so far
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := 0; ; batch++ {
			select {
			case <-stop:
				return
			default:
			}
			var events []string
			for i := 0; i < 50; i++ {
				events = append(events, fmt.Sprintf(`{"id":"b%d-%d","customer":"%d","dimension":%q,"quantity":1,"timestamp":%q}`,
					batch, i, sub.Customer.ID, dimension, time.Now().UTC().Format(time.RFC3339)))
			}
			req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/usage", strings.NewReader(`{"events":[`+strings.Join(events, ",")+`]}`))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("batch %d: %v", batch, err)
				return
			}
			var res struct {
				Accepted int `json:"accepted"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			if res.Accepted != 50 {
				t.Errorf("batch %d: %d of 50 accepted", batch, res.Accepted)
				return
			}
			mu.Lock()
			acked += 50
			mu.Unlock()
		}
	}()
	eventually(t, s, "usage being acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return acked >= 200
	})
	mu.Lock()
	ackedBefore := acked
	mu.Unlock()
	dest := filepath.Join(t.TempDir(), "copy.db")
	out, code := run(t, "", nil, "backup", "--data-dir", dir, "--out", dest)
	mu.Lock()
	ackedAfter := acked
	mu.Unlock()
	close(stop)
	<-done
	if code != 0 || !strings.Contains(out, "backup written: "+dest) || !strings.Contains(out, "To restore it:") {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	if ackedBefore == 0 {
		t.Fatal("no usage was acknowledged before the backup")
	}
	if out, code := run(t, "", nil, "backup", "--data-dir", dir, "--out", dest); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("a second backup to the same file: exit %d\n%s", code, out)
	}
	if out, code := run(t, "", nil, "backup", "--data-dir", filepath.Join(dir, "nothing-here"), "--out", dest+"2"); code != 1 || !strings.Contains(out, "no database at") {
		t.Fatalf("a backup of a missing database: exit %d\n%s", code, out)
	}

	restored := t.TempDir()
	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "marketgate.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, "", nil, "migrate", "--data-dir", restored, "--status"); code != 0 || !strings.Contains(out, "database is up to date") {
		t.Fatalf("the restored database: exit %d\n%s", code, out)
	}
	s2 := start(t, restored, nil)
	c2 := client(t)
	r := postJSON(t, c2, s2.url+"/api/auth/login", `{"email":"backup@journey.example","password":"journey-password"}`)
	if r.StatusCode != 200 {
		t.Fatalf("the buyer signing in to the restored server: %d", r.StatusCode)
	}
	r.Body.Close()
	var after struct {
		Items []struct {
			ID uint `json:"id"`
		} `json:"items"`
	}
	r, err = c2.Get(s2.url + "/api/subscriptions")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, r, &after)
	if len(after.Items) != 1 || after.Items[0].ID != before.Items[0].ID {
		t.Fatalf("the restored server shows %+v, before %+v", after.Items, before.Items)
	}
	// The usage in the copy: every event acknowledged before the backup
	// began, and nothing acknowledged after it ended.
	rs, err := store.Open(context.Background(), store.Config{DataDir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var inCopy int64
	rs.TestingReadDB(t).Table("usage_events").Where("subscription_id = ?", sub.ID).Count(&inCopy)
	if inCopy < int64(ackedBefore) || inCopy > int64(ackedAfter) {
		t.Fatalf("the copy holds %d usage events; %d were acknowledged before the backup began and %d by its end", inCopy, ackedBefore, ackedAfter)
	}
	t.Logf("usage events in the copy: %d (acknowledged: %d before the backup, %d after it)", inCopy, ackedBefore, ackedAfter)
}

// usageTarget is the buyer's one subscription's customer id and a dimension
// of its plan (a pay-as-you-go SaaS offer: every dimension is metered), to
// report usage against, once the subscription is active.
func usageTarget(t *testing.T, s *server, c *http.Client) (customer, dimension string) {
	t.Helper()
	var list struct {
		Items []struct {
			State    string `json:"state"`
			Customer *struct {
				ID uint `json:"id"`
			} `json:"customer"`
			Plan *struct {
				ID uint `json:"id"`
			} `json:"plan"`
		} `json:"items"`
	}
	eventually(t, s, "the subscription becoming active", func() bool {
		r, err := c.Get(s.url + "/api/subscriptions")
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &list)
		return len(list.Items) == 1 && list.Items[0].State == "active" && list.Items[0].Plan != nil
	})
	sub := list.Items[0]
	var offers struct {
		Items []struct {
			Plans []struct {
				ID         uint `json:"id"`
				Dimensions []struct {
					Key string `json:"key"`
				} `json:"dimensions"`
			} `json:"plans"`
		} `json:"items"`
	}
	r, err := c.Get(s.url + "/api/offers")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, r, &offers)
	for _, o := range offers.Items {
		for _, p := range o.Plans {
			if p.ID == sub.Plan.ID && len(p.Dimensions) > 0 {
				return fmt.Sprint(sub.Customer.ID), p.Dimensions[0].Key
			}
		}
	}
	t.Fatalf("no dimension on plan %d", sub.Plan.ID)
	return "", ""
}

// apiKey creates an API key with the command line, beside a running server.
func apiKey(t *testing.T, dir, scopes string) string {
	t.Helper()
	out, code := run(t, "", nil, "apikey", "create", "--data-dir", dir, "--name", "test app "+scopes, "--scopes", scopes)
	key := regexp.MustCompile(`mgk_[A-Za-z0-9_-]+`).FindString(out)
	if code != 0 || key == "" {
		t.Fatalf("apikey: exit %d\n%s", code, out)
	}
	return key
}

// TestEventsFeedAcrossRestart: the read API's events feed, read page by
// page with the answer's next, gives every outbound event once and in
// order, and goes on where it stopped after Marketgate restarts: the events
// of a purchase made before the restart and of a cancellation after it are
// all read, none twice.
func TestEventsFeedAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	s := startOn(t, addr, dir, nil, "--sandbox")
	key := apiKey(t, dir, "read")
	type event struct {
		Position       uint   `json:"position"`
		ID             string `json:"id"`
		Type           string `json:"type"`
		SubscriptionID *uint  `json:"subscription_id"`
	}
	seen := map[string]bool{}
	var all []event
	var after uint
	drain := func(url string) {
		t.Helper()
		for {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/events?after=%d&limit=50", url, after), nil)
			req.Header.Set("Authorization", "Bearer "+key)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.StatusCode != 200 {
				body, _ := io.ReadAll(r.Body)
				t.Fatalf("events feed: %d %s", r.StatusCode, body)
			}
			var page struct {
				Items []event `json:"items"`
				Next  uint    `json:"next"`
			}
			decode(t, r, &page)
			for _, e := range page.Items {
				if seen[e.ID] {
					t.Fatalf("event %s (%s) read twice", e.ID, e.Type)
				}
				if e.Position <= after {
					t.Fatalf("event %s at position %d after %d: out of order", e.ID, e.Position, after)
				}
				seen[e.ID] = true
				all = append(all, e)
				after = e.Position
			}
			if page.Next != after {
				t.Fatalf("next %d, last position read %d", page.Next, after)
			}
			if len(page.Items) == 0 {
				return
			}
		}
	}
	drain(s.url)
	seeded := len(all)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rs, err := store.Open(context.Background(), store.Config{DataDir: dir})
		if err != nil {
			return
		}
		defer rs.Close()
		var evs []store.Event
		rs.TestingReadDB(t).Order("id DESC").Limit(8).Find(&evs)
		for _, e := range evs {
			t.Logf("stored event %d %s created %s (after=%d, read %d)", e.ID, e.Type, e.CreatedAt, after, len(all))
		}
	})
	_, form := sandboxBuyer(t, s, "1", false, "feed@journey.example")
	var sub uint
	eventually(t, s, "the purchase's events in the feed", func() bool {
		drain(s.url)
		for _, e := range all[seeded:] {
			if e.Type == "subscription.activated" && e.SubscriptionID != nil {
				sub = *e.SubscriptionID
				return true
			}
		}
		return false
	})

	// Restart, then cancel: the feed goes on from the same position.
	_ = s.cmd.Process.Kill()
	<-s.done
	s.done <- nil // the cleanup waits once more
	s2 := startOn(t, addr, dir, nil, "--sandbox")
	r := form("/sandbox/aws/notify", url.Values{"subscription": {fmt.Sprint(sub)}, "action": {"cancel"}})
	r.Body.Close()
	before := len(all)
	eventually(t, s2, "the cancellation's events after the restart", func() bool {
		drain(s2.url)
		for _, e := range all[before:] {
			if e.SubscriptionID != nil && *e.SubscriptionID == sub {
				return true
			}
		}
		return false
	})
	t.Logf("%d events read once each, in order: %d seeded, %d after", len(all), seeded, len(all)-seeded)
}
