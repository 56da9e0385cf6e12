package seats

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseUser(t *testing.T) {
	cases := []struct {
		in, email, object string
		ok                bool
	}{
		{"Ann@Contoso.com", "ann@contoso.com", "", true},
		{" ann@contoso.com ", "ann@contoso.com", "", true},
		{"11111111-2222-4333-8444-55555555AAAA", "", "11111111-2222-4333-8444-55555555aaaa", true},
		{"ann", "", "", false},
		{"ann@localhost", "", "", false},
		{"Ann <ann@contoso.com>", "", "", false},
		{"a@b@c.com", "", "", false},
		{"ann@contoso.com.", "", "", false},
		{"", "", "", false},
		{"11111111-2222-4333-8444", "", "", false},
	}
	for _, c := range cases {
		u, err := ParseUser(c.in)
		if (err == nil) != c.ok || u.Email != c.email || u.ObjectID != c.object {
			t.Errorf("ParseUser(%q) = %+v, %v", c.in, u, err)
		}
	}
}

func TestParseCSV(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		users   string // "line:user|name" joined by ";"
		refused string // "line:reason fragment" joined by ";"
		err     string
	}{
		{name: "no header", file: "ann@contoso.com,Ann\nbob@contoso.com\n", users: "1:ann@contoso.com|Ann;2:bob@contoso.com|"},
		{name: "header, any order", file: "Name,E-mail\nAnn,ann@contoso.com\n", users: "2:ann@contoso.com|Ann"},
		{name: "both identities", file: "email,object_id,name\nann@contoso.com,11111111-2222-4333-8444-555555555555,Ann\n",
			users: "2:ann@contoso.com|Ann"},
		{name: "semicolons and a BOM", file: "\xef\xbb\xbfemail;name\nann@contoso.com;Ann\n", users: "2:ann@contoso.com|Ann"},
		{name: "blank lines skipped", file: "ann@contoso.com\n\n,\nbob@contoso.com\n", users: "1:ann@contoso.com|;4:bob@contoso.com|"},
		{name: "bad and repeated", file: "user\nann@contoso.com\nnope\nANN@contoso.com\nemail-only-header@x\n",
			users: "2:ann@contoso.com|", refused: "3:not an e-mail;4:listed before, on line 2;5:not an e-mail"},
		{name: "bad object id", file: "email,object_id\n,not-a-guid\n", refused: "2:not an Entra object id"},
		{name: "neither", file: "email,name\n,Ann\n", refused: "2:no e-mail address"},
		{name: "broken quotes", file: "ann@contoso.com,\"Ann\n", err: "line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, refused, err := ParseCSV([]byte(c.file))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lines {
				got = append(got, strings.Join([]string{itoa(l.Line) + ":" + l.User.String(), l.Name}, "|"))
			}
			if strings.Join(got, ";") != c.users {
				t.Errorf("users %q, want %q", strings.Join(got, ";"), c.users)
			}
			want := []string{}
			if c.refused != "" {
				want = strings.Split(c.refused, ";")
			}
			if len(refused) != len(want) {
				t.Fatalf("refused %+v, want %v", refused, want)
			}
			for i, r := range refused {
				line, frag, _ := strings.Cut(want[i], ":")
				if itoa(r.Line) != line || !strings.Contains(r.Reason, frag) {
					t.Errorf("refusal %d: %+v, want line %s with %q", i, r, line, frag)
				}
			}
		})
	}
	big := strings.Repeat("a@b.co\n", MaxImportLines+1)
	if _, _, err := ParseCSV([]byte(big)); err == nil {
		t.Fatal("an oversized file was read")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
