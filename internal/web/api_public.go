package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/incident"
)

// The public side of incidents (routes.go lists it; open to anyone, no
// login). Each answer holds only what was written for the public: the
// incident package builds it from the public fields alone.
//
//	GET /status                 the status page (HTML)
//	GET /status.json            the same as JSON
//	GET /status.atom            public updates as an Atom feed
//	GET /api/v1/public/banner   the users' warnings of the open incidents
//	GET /api/v1/public/flags    a deployment's kill switches (?deployment=, default "default")
//	GET /sdk/flags.js           the script a dApp includes to apply them
//
// The JSON answers carry an ETag (If-None-Match answers 304), may be cached
// but must be revalidated (a kill switch takes effect at the next read),
// and may be read by a page of any origin (CORS *, GET only: no preflight
// is ever granted, so no other method is reachable cross-site).

// flagsJS is the kill-switch script for dApp front ends, plain JavaScript
// with no build step, served beside the logging SDK (/sdk/blocktorch.js).
//
//go:embed sdk/flags.js
var flagsJS []byte

// publicCache is the Cache-Control of the public JSON answers: cacheable,
// revalidated on every use with the ETag.
const publicCache = "public, no-cache"

// writePublic answers v in the success envelope with its ETag, or 304 when
// the client holds that version.
func writePublic(w http.ResponseWriter, r *http.Request, v any, etag string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag")
	h.Set("Cache-Control", publicCache)
	h.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeData(w, v)
}

// etagMatches reports whether an If-None-Match header names etag (or is
// "*"). Weak tags match their strong twin, as RFC 9110 says for GET.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// jsonETag is a strong ETag over v's JSON.
func jsonETag(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("BUG: a public answer does not encode: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func (s *Server) handlePublicFlags(w http.ResponseWriter, r *http.Request) {
	f, tag, err := s.deps.Incidents.PublicFlags(r.Context(), r.URL.Query().Get("deployment"))
	if err != nil {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeError(w, r, s.log, err)
		return
	}
	writePublic(w, r, f, tag)
}

func (s *Server) handlePublicBanner(w http.ResponseWriter, r *http.Request) {
	b, tag, err := s.deps.Incidents.PublicBanner(r.Context())
	if err != nil {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeError(w, r, s.log, err)
		return
	}
	writePublic(w, r, b, tag)
}

func (s *Server) handleStatusJSON(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Incidents.Status(r.Context())
	if err != nil {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeError(w, r, s.log, err)
		return
	}
	writePublic(w, r, p, jsonETag(p))
}

// statusLabels are the words the status page uses for component and
// incident states.
var statusLabels = map[string]string{
	incident.Operational: "Operational", incident.Degraded: "Degraded performance",
	incident.PartialOutage: "Partial outage", incident.MajorOutage: "Major outage",
	incident.StatusInvestigating: "Investigating", incident.StatusIdentified: "Identified",
	incident.StatusMitigated: "Monitoring a fix", incident.StatusResolved: "Resolved",
}

func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

func (s *Server) handleStatusPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Incidents.Status(r.Context())
	if err != nil {
		s.log.Error("cannot build the status page", "err", err)
		http.Error(w, "the status page is unavailable; try again shortly", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Cache-Control", publicCache)
	s.render(w, r, http.StatusOK, "status.html", map[string]any{"Title": "Status", "Nav": false, "Page": "status", "Public": true, "P": p})
}

// atomFeed is an Atom feed (RFC 4287); encoding/xml escapes every text.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Link    []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Content atomText `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

// baseURL is the scheme and host a request reached this server by (the
// Host was checked by the guard).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// handleStatusAtom answers the public updates of the status page's
// incidents, newest first, as an Atom feed. Text content only: a feed
// reader shows what people typed as text, never as markup.
func (s *Server) handleStatusAtom(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Incidents.Status(r.Context())
	if err != nil {
		s.log.Error("cannot build the status feed", "err", err)
		http.Error(w, "the status feed is unavailable; try again shortly", http.StatusServiceUnavailable)
		return
	}
	base := baseURL(r)
	updated := p.Updated
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	f := atomFeed{ID: base + "/status", Title: "Status", Updated: atomTime(updated),
		Link:   []atomLink{{Href: base + "/status.atom", Rel: "self", Type: "application/atom+xml"}, {Href: base + "/status", Rel: "alternate", Type: "text/html"}},
		Author: atomAuthor{Name: r.Host}, Entries: []atomEntry{}}
	for _, inc := range append(append([]incident.PublicIncident{}, p.Active...), p.Past...) {
		link := base + "/status#incident-" + strconv.FormatInt(inc.ID, 10)
		for _, u := range inc.Updates {
			f.Entries = append(f.Entries, atomEntry{
				ID:      fmt.Sprintf("%s/status/incident/%d/%d", base, inc.ID, u.Time.UnixNano()),
				Title:   inc.Title + " — " + statusLabel(inc.Status),
				Updated: atomTime(u.Time), Link: atomLink{Href: link, Rel: "alternate"},
				Content: atomText{Type: "text", Text: u.Text}})
		}
		if len(inc.Updates) == 0 {
			f.Entries = append(f.Entries, atomEntry{
				ID:      fmt.Sprintf("%s/status/incident/%d", base, inc.ID),
				Title:   inc.Title + " — " + statusLabel(inc.Status),
				Updated: atomTime(inc.Updated), Link: atomLink{Href: link, Rel: "alternate"},
				Content: atomText{Type: "text", Text: statusLabel(inc.Status)}})
		}
	}
	// Newest first (RFC 3339 UTC strings sort as times).
	slices.SortStableFunc(f.Entries, func(a, b atomEntry) int { return strings.Compare(b.Updated, a.Updated) })
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.log.Error("cannot encode the status feed", "err", err)
		http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
		return
	}
	tag := jsonETag(string(b))
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", publicCache)
	h.Set("ETag", tag)
	if etagMatches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// handleFlagsSDK serves the kill-switch script. A dApp of any origin loads
// it with a <script> tag.
func (s *Server) handleFlagsSDK(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(flagsJS)
}
