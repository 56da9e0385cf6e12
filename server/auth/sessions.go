package auth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/marketgate/marketgate/store"
)

// SessionStore is a gorilla/sessions Store that keeps session data in the
// database (keyed by the SHA-256 of the id, see store.SessionKey); the
// cookie carries only the signed session id, so signing out
// (or an admin disabling a user) ends the session everywhere at once.
type SessionStore struct {
	st      *store.Store
	codecs  []securecookie.Codec
	Options *sessions.Options
}

// UserIDKey is the session value that holds the signed-in user's id.
const UserIDKey = "uid"

// NewSessionStore builds the store. hashKey signs cookies (32+ bytes).
func NewSessionStore(st *store.Store, hashKey []byte, secure bool, maxAge time.Duration) *SessionStore {
	codec := securecookie.New(hashKey, nil)
	codec.MaxAge(int(maxAge.Seconds()))
	codec.SetSerializer(securecookie.GobEncoder{})
	return &SessionStore{
		st:     st,
		codecs: []securecookie.Codec{codec},
		Options: &sessions.Options{
			Path:     "/",
			MaxAge:   int(maxAge.Seconds()),
			HttpOnly: true,
			Secure:   secure,
			SameSite: http.SameSiteLaxMode,
		},
	}
}

// Get returns the request's session, cached per request.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or a new empty one.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := *s.Options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, s.codecs...); err != nil {
		return sess, nil // a forged or expired cookie is just no session
	}
	row, err := s.st.SessionByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if err := securecookie.DecodeMulti(name, row.Data, &sess.Values, s.codecs...); err != nil {
		return sess, nil
	}
	sess.ID = id
	sess.IsNew = false
	return sess, nil
}

// Save writes the session and its cookie; MaxAge < 0 deletes both.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.st.DeleteSession(ctx, sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		sess.ID = RandomToken(32)
	}
	data, err := securecookie.EncodeMulti(sess.Name(), sess.Values, s.codecs...)
	if err != nil {
		return err
	}
	row := &store.Session{ID: sess.ID, Data: data, ExpiresAt: s.st.Now().Add(time.Duration(sess.Options.MaxAge) * time.Second)}
	if uid, ok := sess.Values[UserIDKey].(uint); ok {
		row.UserID = &uid
	}
	if err := s.st.SaveSession(ctx, row); err != nil {
		return err
	}
	cookie, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), cookie, sess.Options))
	return nil
}

// Renew gives the session a fresh id (after sign-in, against fixation),
// dropping the old row.
func (s *SessionStore) Renew(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := s.st.DeleteSession(ctx, sess.ID); err != nil {
			return err
		}
	}
	sess.ID = ""
	return nil
}
