package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Token purposes: a verification link's, and the progress page's that follows it.
const (
	PurposeVerify   = "verify"
	PurposeProgress = "progress"
)

// Claims are what a token carries: the signup (or the signed-in user), what it is for, and until
// when.
type Claims struct {
	Signup  Signup    `json:"signup"`
	User    string    `json:"user,omitempty"`
	Purpose string    `json:"purpose"`
	Expires time.Time `json:"exp"`
}

// Tokens signs and checks tokens with an HMAC-SHA256 key: a verification link needs no state on
// the server (a restart loses nothing), and cannot be forged or changed.
type Tokens struct {
	Key []byte
	Now func() time.Time
}

func (t Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Sign is the token of signup for purpose, valid for ttl.
func (t Tokens) Sign(s Signup, purpose string, ttl time.Duration) (string, error) {
	return t.sign(Claims{Signup: s, Purpose: purpose}, ttl)
}

// SignUser is the token of a user (an admin's session, a login under way) for purpose.
func (t Tokens) SignUser(user, purpose string, ttl time.Duration) (string, error) {
	return t.sign(Claims{User: user, Purpose: purpose}, ttl)
}

func (t Tokens) sign(c Claims, ttl time.Duration) (string, error) {
	c.Expires = t.now().Add(ttl).UTC().Truncate(time.Second)
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.mac(payload)), nil
}

func (t Tokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.Key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Errors of Verify, as a customer reads them.
var (
	ErrBadToken     = errors.New("this link is not one we sent (it may have been cut short by your mail program)")
	ErrExpiredToken = errors.New("this link has expired: sign up again")
)

// Verify returns the claims of token when its signature holds, it is for purpose and has not
// expired.
func (t Tokens) Verify(token, purpose string) (Claims, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(t.Key) == 0 {
		return Claims{}, ErrBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(payload)) {
		return Claims{}, ErrBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrBadToken
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil || c.Purpose != purpose {
		return Claims{}, ErrBadToken
	}
	if !t.now().Before(c.Expires) {
		return Claims{}, ErrExpiredToken
	}
	return c, nil
}
