package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// mailbox is a minimal SMTP server keeping what it receives, so the real
// mail client (alerts.Service) sends the verification e-mails.
type mailbox struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
}

func newMailbox(t *testing.T) *mailbox {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mailbox{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go m.serve(c)
		}
	}()
	return m
}

func (m *mailbox) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { _, _ = io.WriteString(c, l+"\r\n") }
	say("220 test ESMTP")
	var rcpt string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "RCPT TO"):
			rcpt = strings.Trim(strings.TrimSpace(line[8:]), "<>")
			say("250 OK")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.mu.Lock()
			m.msgs = append(m.msgs, "RCPT "+rcpt+"\n"+b.String())
			m.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

var verifyLink = regexp.MustCompile(`http://portal\.test/marketplace/aws/verify\?token=[A-Za-z0-9_%-]+`)

// linkFor returns the verification link mailed to addr ("" when none).
func (m *mailbox) linkFor(addr string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range m.msgs {
		if strings.HasPrefix(msg, "RCPT "+addr+"\n") {
			return verifyLink.FindString(msg)
		}
	}
	return ""
}

func formPost(h http.Handler, path string, form url.Values, cookie string) resp {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

// Issue 15, finding 9: "Verify an e-mail address before it becomes an
// account's identity when mail is configured, and give answers that reveal
// nothing about other organisations."
func TestOnboardingVerifiesEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fake := awsfake.NewMetering(nil)
		fsrv := httptest.NewServer(fake)
		defer fsrv.Close()
		client, err := awsmp.New(context.Background(), awsmp.Config{MeteringEndpoint: fsrv.URL, StaticKeys: true, MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		box := newMailbox(t)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		mailer := &alerts.Service{Store: st, Log: log, SMTP: &alerts.SMTP{Addr: box.ln.Addr().String(), From: "Marketgate <no-reply@seller.example>"}}
		h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
			Log: log, AWS: client, AWSEvents: &awsmp.Processor{Store: st, Log: log, AWS: client}, Mail: mailer,
			Info: api.Info{BaseURL: "http://portal.test"}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		if err := st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Acme Contracts", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			t.Fatal(err)
		}
		// Someone of another organisation already has an account.
		other := store.Customer{Name: "Other Org", CreatedAt: now, UpdatedAt: now}
		must(t, st.TestingDB(t).Create(&other).Error)
		must(t, st.CreateUser(context.Background(), &store.User{Email: "taken@other.example", Role: store.RoleCustomerAdmin, CustomerID: &other.ID, CreatedAt: now, UpdatedAt: now}))

		e := &env{t: t, st: st, h: h}
		reg := httptest.NewRequest(http.MethodPost, "/marketplace/aws/register", strings.NewReader(url.Values{"x-amzn-marketplace-token": {fake.IssueToken(caBuyer)}}.Encode()))
		reg.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reg)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusSeeOther || loc == nil || loc.Query().Get("ticket") == "" {
			t.Fatalf("register: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		form := url.Values{"ticket": {loc.Query().Get("ticket")}, "company": {"Contoso Ltd"}, "name": {"Ada"}, "password": {"a-good-password"}}

		// The form answers alike for a taken and a free address, creates no
		// account, and mails a link to the address typed.
		submit := func(email string) resp {
			form.Set("email", email)
			return formPost(h, "/marketplace/aws/onboarding", form, "")
		}
		taken, free := submit("taken@other.example"), submit("Ada@Contoso.example")
		if taken.code != 200 || free.code != 200 ||
			strings.ReplaceAll(string(taken.body), "taken@other.example", "X") != strings.ReplaceAll(string(free.body), "ada@contoso.example", "X") ||
			!strings.Contains(string(free.body), "Check your inbox") {
			t.Fatalf("answers differ or no inbox page:\n%d %s\n%d %s", taken.code, taken.body, free.code, free.body)
		}
		if _, err := st.UserByEmail(context.Background(), "ada@contoso.example"); err != store.ErrNotFound {
			t.Fatalf("an account exists before its address was verified: %v", err)
		}
		link := box.linkFor("ada@contoso.example")
		if link == "" || box.linkFor("taken@other.example") == "" {
			t.Fatalf("verification e-mails: %v", box.msgs)
		}
		token, _ := url.Parse(link)

		// Opening the link (as a mail scanner does) creates nothing.
		b := &browser{e: e}
		page := b.get(strings.TrimPrefix(link, "http://portal.test"))
		if page.code != 200 || !strings.Contains(string(page.body), "Confirm and create my account") {
			t.Fatalf("verify page: %d %s", page.code, page.body)
		}
		if _, err := st.UserByEmail(context.Background(), "ada@contoso.example"); err != store.ErrNotFound {
			t.Fatal("a GET created the account")
		}
		// The confirmation creates the account and signs its owner in.
		r := formPost(h, "/marketplace/aws/verify", url.Values{"token": {token.Query().Get("token")}}, "")
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/marketplace/aws/welcome?subscription=") {
			t.Fatalf("confirm: %d %s", r.code, r.body)
		}
		u, err := st.UserByEmail(context.Background(), "ada@contoso.example")
		if err != nil || u.Role != store.RoleCustomerAdmin || !auth.VerifyPassword(u.PasswordHash, "a-good-password") {
			t.Fatalf("account: %+v %v", u, err)
		}
		// Links work once; the other address's link finds the ticket used.
		if r := formPost(h, "/marketplace/aws/verify", url.Values{"token": {token.Query().Get("token")}}, ""); r.code != http.StatusGone {
			t.Fatalf("second use: %d", r.code)
		}
		takenLink, _ := url.Parse(box.linkFor("taken@other.example"))
		if r := formPost(h, "/marketplace/aws/verify", url.Values{"token": {takenLink.Query().Get("token")}}, ""); r.code != http.StatusGone {
			t.Fatalf("the squatter's link: %d %s", r.code, r.body)
		}
		if r := formPost(h, "/marketplace/aws/verify", url.Values{"token": {"forged"}}, ""); r.code != http.StatusGone {
			t.Fatalf("forged link: %d", r.code)
		}
	})
}

// The invite form tells a customer admin nothing about addresses with an
// account in another organisation; seller staff still see why.
func TestInviteRevealsNothingAboutOtherOrganisations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		e.user("colleague@contoso.com", store.RoleCustomerAdmin, &w.custA)
		e.user("it@fabrikam.com", store.RoleCustomerAdmin, &w.custB)
		owner := e.login("it@contoso.com")
		invite := func(email string) resp {
			return owner.do(http.MethodPost, "/api/customer-admins/invites", fmt.Sprintf(`{"email":%q}`, email), nil)
		}
		elsewhere, nowhere := invite("it@fabrikam.com"), invite("nobody@fabrikam.com")
		if elsewhere.code != 201 || nowhere.code != 201 {
			t.Fatalf("invites: %d %s / %d %s", elsewhere.code, elsewhere.body, nowhere.code, nowhere.body)
		}
		// Same organisation: saying so reveals nothing new.
		invite("colleague@contoso.com").errCode(t, 409, "conflict")
		e.login("admin@seller.com").do(http.MethodPost, "/api/customer-admins/invites",
			fmt.Sprintf(`{"email":"it@fabrikam.com","customer_id":%d}`, w.custA), nil).errCode(t, 409, "conflict")
	})
}
