package console

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tk := Tokens{Key: []byte("a key of sixteen bytes or more"), Now: func() time.Time { return now }}
	token, err := tk.Sign(good(), PurposeVerify, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tk.Verify(token, PurposeVerify)
	if err != nil || c.Signup != good() {
		t.Fatalf("%+v %v", c, err)
	}
	// Another purpose, another key, a changed payload, a cut token: refused.
	if _, err := tk.Verify(token, PurposeProgress); !errors.Is(err, ErrBadToken) {
		t.Errorf("another purpose: %v", err)
	}
	if _, err := (Tokens{Key: []byte("another key, also long enough"), Now: tk.Now}).Verify(token, PurposeVerify); !errors.Is(err, ErrBadToken) {
		t.Errorf("another key: %v", err)
	}
	payload, sig, _ := strings.Cut(token, ".")
	forged := Signup{Company: "Evil", Subdomain: "acme", Region: "eu-west-1", Tier: "dedicated", AdminEmail: "it@acme.example"}
	other, _ := tk.Sign(forged, PurposeVerify, time.Hour)
	otherPayload, _, _ := strings.Cut(other, ".")
	if _, err := tk.Verify(otherPayload+"."+sig, PurposeVerify); !errors.Is(err, ErrBadToken) {
		t.Errorf("a payload swapped under a signature: %v", err)
	}
	if _, err := tk.Verify(payload[:len(payload)-3]+"."+sig, PurposeVerify); !errors.Is(err, ErrBadToken) {
		t.Errorf("a cut token: %v", err)
	}
	if _, err := tk.Verify("", PurposeVerify); !errors.Is(err, ErrBadToken) {
		t.Errorf("no token: %v", err)
	}
	// Expired an hour later.
	later := Tokens{Key: tk.Key, Now: func() time.Time { return now.Add(time.Hour) }}
	if _, err := later.Verify(token, PurposeVerify); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("expired: %v", err)
	}
	// No key: nothing verifies.
	if _, err := (Tokens{Now: tk.Now}).Verify(token, PurposeVerify); !errors.Is(err, ErrBadToken) {
		t.Errorf("no key: %v", err)
	}
}
