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
	w := httptest.NewRecorder()
	if o.Login(w, httptest.NewRequest("POST", "/login", nil), "wrong") || len(w.Result().Cookies()) != 0 {
		t.Fatal("a wrong key logged in")
	}
	w = httptest.NewRecorder()
	if !o.Login(w, httptest.NewRequest("POST", "/login", nil), "s3cret") {
		t.Fatal("the right key did not log in")
	}
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	if !o.Allowed(r) {
		t.Fatal("the session cookie is not accepted")
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "forged"})
	if o.Allowed(r) || NewOperator("other").Allowed(r) {
		t.Fatal("a forged cookie is accepted")
	}
}
