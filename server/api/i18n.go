package api

import (
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The buyer's language on the server-rendered pages (landing, welcome,
// onboarding, e-mail verification, invitation, sign-in problems) and in the
// e-mails sent to buyers: go-i18n catalogues, one file per language under
// locales/ (same message ids in both, checked by TestPageCatalogues), the
// language chosen by the `lang` cookie (the pages' switch) or else the
// browser's Accept-Language.

//go:embed locales/active.*.toml
var localeFiles embed.FS

// pageLanguages are the languages of the buyer pages, the default first.
var pageLanguages = []language.Tag{language.English, language.Japanese}

var (
	langMatcher = language.NewMatcher(pageLanguages)
	pageBundle  = loadPageBundle()
)

// LangCookie holds the language a buyer chose with the pages' switch.
const LangCookie = "lang"

func loadPageBundle() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, t := range pageLanguages {
		if _, err := b.LoadMessageFileFS(localeFiles, "locales/active."+t.String()+".toml"); err != nil {
			panic(err)
		}
	}
	return b
}

// Lang is one language of the buyer pages: its messages, dates and numbers.
type Lang struct {
	Code string // "en" or "ja"
	loc  *i18n.Localizer
	tag  language.Tag
}

// langFor returns the supported language closest to code ("" or unknown: English).
func langFor(code string) *Lang {
	tag := language.English
	if t, err := language.Parse(code); err == nil {
		_, i, conf := langMatcher.Match(t)
		if conf != language.No {
			tag = pageLanguages[i]
		}
	}
	return &Lang{Code: tag.String(), tag: tag, loc: i18n.NewLocalizer(pageBundle, tag.String())}
}

// requestLang is the language of a request: the switch's cookie, else the
// browser's Accept-Language, else English.
func requestLang(r *http.Request) *Lang { return requestLangOr(r, "en") }

// requestLangOr is requestLang with fallback for a browser that says nothing.
func requestLangOr(r *http.Request, fallback string) *Lang {
	if ck, err := r.Cookie(LangCookie); err == nil && (ck.Value == "en" || ck.Value == "ja") {
		return langFor(ck.Value)
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return langFor(fallback)
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return langFor("en")
	}
	return langFor(pageLanguages[i].String())
}

// T is the message id in this language, with kv as the message's data
// (name, value, name, value...). A missing id shows the id (a test makes
// sure none is missing).
func (l *Lang) T(id string, kv ...any) string {
	var data map[string]any
	if len(kv) > 0 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Has says whether id is a message of the catalogues.
func (l *Lang) Has(id string) bool {
	_, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// Number formats an integer for the language (1,234).
func (l *Lang) Number(n int) string { return message.NewPrinter(l.tag).Sprintf("%d", n) }

// Date formats a day for the language (3 December 2026, 2026年12月3日).
func (l *Lang) Date(t time.Time) string {
	t = t.UTC()
	if l.Code == "ja" {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	}
	return t.Format("2 January 2006")
}

// Other is the language the switch offers.
func (l *Lang) Other() *Lang {
	if l.Code == "ja" {
		return langFor("en")
	}
	return langFor("ja")
}

// SwitchURL is the switch's link to this language, back to next.
func (l *Lang) SwitchURL(next string) string {
	return "/lang?set=" + l.Code + "&next=" + url.QueryEscape(next)
}

// setLang is the language switch of the buyer pages: it remembers the
// chosen language in a cookie and goes back to the page (same site only).
func setLang(c *gin.Context) {
	code := c.Query("set")
	if code != "en" && code != "ja" {
		code = "en"
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: LangCookie, Value: code, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: false, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, SafeNext(c.Query("next")))
}

// pageNext is where the language switch returns to: the page itself for
// a GET, else what the handler named (data "Next"), else the start page.
func pageNext(c *gin.Context, data map[string]any) string {
	if n, ok := data["Next"].(string); ok && n != "" {
		return n
	}
	if c.Request.Method == http.MethodGet {
		return c.Request.URL.RequestURI()
	}
	return "/"
}
