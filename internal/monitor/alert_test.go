package monitor

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestStateMachine drives one alert through a script of observations:
// "+" the condition holds at that second, "-" it does not; each line
// lists the transitions expected at that step.
func TestStateMachine(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		spec   Spec
		steps  string // one char per second
		want   []string
		silent map[int]bool // seconds under a silence
	}{
		{"fires at once, resolves at once", Spec{Kind: KindState}, "+-", []string{"0:firing", "1:resolved"}, nil},
		{"for-duration holds it pending", Spec{Kind: KindState, For: Duration(3 * time.Second)}, "+++-+++++", []string{"7:firing"}, nil},
		{"pending drops when the condition breaks", Spec{Kind: KindState, For: Duration(2 * time.Second)}, "++-++-", nil, nil},
		{"match monitors resolve after quiet", Spec{Kind: KindEvent, ResolveAfter: Duration(3 * time.Second)}, "+--+---", []string{"0:firing", "6:resolved"}, nil},
		{"renotify repeats while firing", Spec{Kind: KindState, Renotify: Duration(2 * time.Second)}, "+++++-", []string{"0:firing", "2:renotify", "4:renotify", "5:resolved"}, nil},
		{"cooldown mutes a quick re-fire and its resolve", Spec{Kind: KindState, Cooldown: Duration(5 * time.Second)}, "+-+-----+", []string{"0:firing", "1:resolved", "2:cooldown", "3:resolved(quiet)", "8:firing"}, nil},
		{"silence mutes and is recorded", Spec{Kind: KindState}, "+-+-", []string{"0:silenced", "1:resolved(quiet)", "2:firing", "3:resolved"}, map[int]bool{0: true}},
		{"an alert fired under a silence notifies when it ends", Spec{Kind: KindState}, "++++-", []string{"0:silenced", "2:firing", "4:resolved"}, map[int]bool{0: true, 1: true}},
		{"a resolve of an alert never notified is not sent", Spec{Kind: KindState}, "+--", []string{"0:silenced", "1:resolved(quiet)"}, map[int]bool{0: true, 1: true}},
		{"nothing is delivered while a silence holds", Spec{Kind: KindState}, "+---+-", []string{"0:firing", "1:resolved(quiet)", "3:resolved", "4:firing", "5:resolved"}, map[int]bool{1: true, 2: true}},
		{"a silenced renotify waits for the next", Spec{Kind: KindState, Renotify: Duration(2 * time.Second)}, "+++++", []string{"0:firing", "3:renotify"}, map[int]bool{2: true}},
		{"a cooldown's mute is not a silence's", Spec{Kind: KindState, Cooldown: Duration(10 * time.Second)}, "+-++-", []string{"0:firing", "1:resolved", "2:cooldown", "4:resolved(quiet)"}, map[int]bool{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.spec.ID = "m"
			cm := &compiled{spec: c.spec}
			var a *Alert
			var got []string
			for i, ch := range c.steps {
				ts := t0.Add(time.Duration(i) * time.Second)
				o := obs{key: "", active: ch == '+', t: ts, block: uint64(i + 1)}
				silenced := func(map[string]string, time.Time) bool { return c.silent[i] }
				var trs []transition
				a, trs = cm.advance(a, o, silenced)
				for _, tr := range trs {
					s := tr.status
					switch {
					case tr.renotify:
						s = "renotify"
					case tr.silenced:
						s = "silenced"
					case tr.status == StateFiring && !tr.notify:
						s = "cooldown"
					case !tr.notify:
						s += "(quiet)"
					}
					got = append(got, strings.Join([]string{itoa(uint64(i)), s}, ":"))
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("transitions %v, want %v", got, c.want)
			}
		})
	}
}

func TestIdempotencyKeysDifferPerTransition(t *testing.T) {
	cm := &compiled{spec: Spec{ID: "m", Kind: KindState, Renotify: Duration(time.Second)}}
	t0 := time.Unix(0, 0)
	var a *Alert
	keys := map[string]bool{}
	never := func(map[string]string, time.Time) bool { return false }
	for i, active := range []bool{true, true, true, false, true, false} {
		var trs []transition
		a, trs = cm.advance(a, obs{active: active, t: t0.Add(time.Duration(i) * time.Second)}, never)
		for _, tr := range trs {
			k := tr.idempotencyKey()
			if keys[k] {
				t.Fatalf("key %s used twice", k)
			}
			keys[k] = true
		}
	}
	if len(keys) != 6 {
		t.Fatalf("%d notifications, want 6 (fire, 2 renotify, resolve, fire, resolve): %v", len(keys), keys)
	}
	// Replaying the same observations from the same saved state yields the
	// same keys: a crash between enqueue and save enqueues nothing new.
	a2 := (*Alert)(nil)
	_, trs := cm.advance(a2, obs{active: true, t: t0}, never)
	if !keys[trs[0].idempotencyKey()] {
		t.Fatal("replay derived a new key")
	}
}

func TestConditions(t *testing.T) {
	cases := []struct {
		cond  string
		value string
		want  bool
	}{
		{"value > 1e24", "1000000000000000000000001", true},
		{"value > 1e24", "1000000000000000000000000", false},
		{"value >= 1e24", "1000000000000000000000000", true},
		{"to == 0xdAC17F958D2ee523a2206206994597C13D831ec7", "0xdac17f958d2ee523a2206206994597c13d831ec7", true},
		{"to != 0xdAC17F958D2ee523a2206206994597C13D831ec7", "0xdac17f958d2ee523a2206206994597c13d831ec7", false},
		{"reason ~ *Unauthorized*", "AccessControlUnauthorizedAccount", true},
		{"reason !~ *Unauthorized*", "EnforcedPause", true},
		{"x in [1, 2, 0x03]", "3", true},
		{"x not in [1, 2]", "3", true},
		{"paused == true", "true", true},
		{"amount < -5", "-6", true},
		{"index > 5", "6", true},
		{"min <= 0x10", "16", true},
	}
	for _, c := range cases {
		cd, err := parseCond(c.cond, "")
		if err != nil {
			t.Errorf("%s: %v", c.cond, err)
			continue
		}
		if got := cd.match(c.value, true); got != c.want {
			t.Errorf("%s on %s = %v, want %v", c.cond, c.value, got, c.want)
		}
	}
	for _, bad := range []string{"value", "> 5", "value > abc", "x in 1,2", "x in []", "a b > 1"} {
		if _, err := parseCond(bad, ""); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseCond(f *testing.F) {
	for _, s := range []string{"value > 1e24", "x in [a, b]", "reason ~ *x*", "a != 0x00", "> 5", "not in", "in [", "x <= 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"} {
		f.Add(s, "123")
	}
	f.Fuzz(func(t *testing.T, cond, value string) {
		c, err := parseCond(cond, "value")
		if err != nil {
			return
		}
		c.match(value, true)
		glob(value, cond)
	})
}

func TestSameAlertSeesEveryField(t *testing.T) {
	// sameAlert decides whether an alert's state is saved: it must compare
	// every field but the two that make its identity.
	if n := reflect.TypeOf(Alert{}).NumField(); n != 19 {
		t.Fatalf("Alert has %d fields; update sameAlert and this test", n)
	}
	a := &Alert{Labels: map[string]string{"a": "1"}, Value: "1"}
	b := cloneAlert(a)
	if !sameAlert(a, b) {
		t.Fatal("a clone differs")
	}
	b.Labels["a"] = "2"
	if sameAlert(a, b) {
		t.Fatal("labels ignored")
	}
}

// TestResolveCarriesWhatResolved: a resolve reports the observation that
// resolved the alert (its value, summary and block) and when it ended,
// not the firing's.
func TestResolveCarriesWhatResolved(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	never := func(map[string]string, time.Time) bool { return false }
	c := &compiled{spec: Spec{ID: "paused", Kind: KindState, Channels: []string{"hook"}}}
	a, _ := c.advance(nil, obs{active: true, t: t0, block: 10, value: "true", summary: "paused is true"}, never)
	a, trs := c.advance(a, obs{t: t0.Add(5 * time.Second), block: 15, value: "false", summary: "paused is false"}, never)
	if len(trs) != 1 || trs[0].status != StateResolved {
		t.Fatalf("transitions %+v", trs)
	}
	e := New(Deps{}, Options{})
	m := e.message(c, trs[0])
	if m.Value != "false" || m.Summary != "paused is false" || m.Block != 15 || !m.EndsAt.Equal(t0.Add(5*time.Second)) || !m.StartsAt.Equal(t0) {
		t.Errorf("resolve says value %q, summary %q, block %d, %s to %s", m.Value, m.Summary, m.Block, m.StartsAt, m.EndsAt)
	}
	if a.Block != 10 {
		t.Errorf("the alert forgot the block that fired it (a reorg of it retracts the alert): %d", a.Block)
	}
	fire := e.message(c, transition{alert: Alert{Since: t0, Block: 10}, status: StateFiring, t: t0})
	if !fire.EndsAt.IsZero() {
		t.Errorf("a firing has an end: %s", fire.EndsAt)
	}
}
