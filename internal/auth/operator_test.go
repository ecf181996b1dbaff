package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOperator(t *testing.T) {
	open := NewOperator("")
	if open.Enabled() || !open.Allowed(httptest.NewRequest("GET", "/", nil)) {
		t.Fatal("without a key every request is the operator's")
	}
	o := NewOperator("s3cret")
	if !o.Enabled() || o.Allowed(httptest.NewRequest("GET", "/", nil)) {
		t.Fatal("with a key, a request without the cookie is refused")
	}
	if sess, ok := o.Login("wrong"); ok || sess.ID != "" {
		t.Fatal("a wrong key logged in")
	}
	sess, ok := o.Login("s3cret")
	if !ok || sess.ID == "" {
		t.Fatal("the right key did not log in")
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: sess.ID})
	if !o.Allowed(r) {
		t.Fatal("the session cookie is not accepted")
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "forged"})
	if o.Allowed(r) || NewOperator("other").Allowed(r) {
		t.Fatal("a forged cookie is accepted")
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: sess.ID})
	o.Logout(sess.ID)
	if o.Allowed(r) {
		t.Fatal("a logged-out session is accepted")
	}
}
