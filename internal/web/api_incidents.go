package web

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The incidents API (routes.go lists it; every route is the operator's):
//
//	GET    /api/v1/incidents                     incidents, newest first (?open=1&limit=)
//	POST   /api/v1/incidents                     open one: a draft, with "alert":{"monitor","key"} to open it
//	                                             from an alert or "search":{"query","from","to"} from a search
//	GET    /api/v1/incidents/{id}                the incident with its scope, timeline and postmortem
//	PATCH  /api/v1/incidents/{id}                change fields (title, severity, owner, summary, contracts, …)
//	POST   /api/v1/incidents/{id}/status         {"status","message","public"}: a stakeholder update
//	POST   /api/v1/incidents/{id}/notes          {"text","public","notify"}: a note, or an update when
//	                                             public or notified
//	POST   /api/v1/incidents/{id}/links          {"kind":"search|dashboard|debug","text","url"}
//	GET    /api/v1/incidents/{id}/timeline
//	GET    /api/v1/incidents/{id}/scope          impact over the window and a day earlier
//	PUT    /api/v1/incidents/{id}/banner         {"text"}: the users' warning while it is open
//	DELETE /api/v1/incidents/{id}/banner
//	GET    /api/v1/incidents/{id}/postmortem
//	PUT    /api/v1/incidents/{id}/postmortem     {"rootCause","lessons","actionItems","review"}
//	GET    /api/v1/incidents/{id}/postmortem.md  the postmortem as Markdown (a download, not an envelope)
//	GET    /api/v1/incidents/audit               who changed what (?limit=)
//	GET    /api/v1/incidents/template            the postmortem template in force
//	PUT    /api/v1/incidents/template            {"body"}: a new one; "" restores the default
//	POST   /api/v1/incidents/template/preview    {"body","incident"}: what a template not saved gives
//	                                             for that incident (0: a sample), or why it fails
//	GET    /api/v1/flags                         kill switches (?deployment=)
//	PUT    /api/v1/flags/{deployment}/{name}     {"enabled","percent","description"}
//	DELETE /api/v1/flags/{deployment}/{name}
//	GET    /api/v1/status/components             the status page's components
//	PUT    /api/v1/status/components/{id}        {"name","kind":"contract|service","ref","position","status"}
//	DELETE /api/v1/status/components/{id}

// actorHeader names the person behind a change in the audit log and on the
// timeline. The operator key says the request is the operator's; this
// header only says which of the operator's people it is, as they typed it.
const actorHeader = "X-Blocktorch-Actor"

// actor is who made a change: the user or API key the request is
// authenticated as; for the operator key or an open server, the name the
// client sent in actorHeader (one line, at most 100 characters), or
// "operator".
func actor(r *http.Request) string {
	// A user or a key is named by the login, not by what the client says.
	if p := principalOf(r); p.Kind == "user" || p.Kind == "key" {
		return p.Name
	}
	a := strings.TrimSpace(r.Header.Get(actorHeader))
	if a == "" || !utf8.ValidString(a) || strings.ContainsFunc(a, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return "operator"
	}
	if rs := []rune(a); len(rs) > 100 {
		a = string(rs[:100])
	}
	return a
}

// incidentID reads the {id} path value.
func incidentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(kindBadRequest, "the incident id %q is not a positive integer", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) handleIncidents(w http.ResponseWriter, r *http.Request) {
	limit, err := queryUint(r, "limit", 100)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	open := r.URL.Query().Get("open")
	l, err := s.deps.Incidents.List(r.Context(), store.IncidentQuery{Open: open == "1" || open == "true", Limit: int(min(limit, 1000))})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, l)
}

// openRequest is the body of POST /api/v1/incidents: a draft, and where
// the incident comes from (at most one of Alert and Search).
type openRequest struct {
	incident.Draft
	Alert *struct {
		Monitor string `json:"monitor"`
		Key     string `json:"key"`
	} `json:"alert,omitempty"`
	Search *incident.SearchRef `json:"search,omitempty"`
}

func (s *Server) handleOpenIncident(w http.ResponseWriter, r *http.Request) {
	var req openRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var inc store.Incident
	var err error
	switch {
	case req.Alert != nil && req.Search != nil:
		err = errorf(kindBadRequest, "open an incident from an alert or from a search, not both")
	case req.Alert != nil:
		if req.Alert.Monitor == "" {
			err = errorf(kindBadRequest, "alert.monitor is required")
			break
		}
		inc, err = s.deps.Incidents.OpenFromAlert(r.Context(), actor(r), req.Draft, req.Alert.Monitor, req.Alert.Key)
	case req.Search != nil:
		inc, err = s.deps.Incidents.OpenFromSearch(r.Context(), actor(r), req.Draft, *req.Search)
	default:
		inc, err = s.deps.Incidents.Open(r.Context(), actor(r), req.Draft)
	}
	if err != nil && inc.ID == 0 {
		writeError(w, r, s.log, err)
		return
	}
	// A stakeholder update that could not be queued leaves the incident
	// open: say so beside it.
	writeCreated(w, changed{Incident: inc, Warning: warning(err)})
}

// changed is the answer of a change that may have been stored while its
// stakeholder update was not sent: Warning says so.
type changed struct {
	Incident store.Incident       `json:"incident"`
	Entry    *store.IncidentEntry `json:"entry,omitempty"`
	Warning  string               `json:"warning,omitempty"`
}

func warning(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (s *Server) handleGetIncident(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	rep, err := s.deps.Incidents.Report(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, rep)
}

func (s *Server) handleEditIncident(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var p incident.Patch
	if err == nil {
		err = readJSON(w, r, &p)
	}
	var inc store.Incident
	if err == nil {
		inc, err = s.deps.Incidents.Edit(r.Context(), actor(r), id, p)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, inc)
}

func (s *Server) handleIncidentStatus(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var c incident.Change
	if err == nil {
		err = readJSON(w, r, &c)
	}
	var inc store.Incident
	if err == nil {
		inc, err = s.deps.Incidents.SetStatus(r.Context(), actor(r), id, c)
	}
	if err != nil && inc.ID == 0 {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, changed{Incident: inc, Warning: warning(err)})
}

func (s *Server) handleIncidentNote(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var n incident.Note
	if err == nil {
		err = readJSON(w, r, &n)
	}
	var e store.IncidentEntry
	if err == nil {
		e, err = s.deps.Incidents.AddNote(r.Context(), actor(r), id, n)
	}
	if err != nil && e.ID == 0 {
		writeError(w, r, s.log, err)
		return
	}
	writeCreated(w, changed{Incident: store.Incident{ID: id}, Entry: &e, Warning: warning(err)})
}

func (s *Server) handleIncidentLink(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var l incident.Link
	if err == nil {
		err = readJSON(w, r, &l)
	}
	var e store.IncidentEntry
	if err == nil {
		e, err = s.deps.Incidents.AddLink(r.Context(), actor(r), id, l)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeCreated(w, e)
}

func (s *Server) handleIncidentTimeline(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var tl []store.IncidentEntry
	if err == nil {
		tl, err = s.deps.Incidents.Timeline(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, tl)
}

func (s *Server) handleIncidentScope(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var sc incident.Scope
	if err == nil {
		sc, err = s.deps.Incidents.Scope(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, sc)
}

func (s *Server) handleSetBanner(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var body struct {
		Text string `json:"text"`
	}
	if err == nil {
		err = readJSON(w, r, &body)
	}
	if err == nil && strings.TrimSpace(body.Text) == "" {
		err = errorf(kindBadRequest, "the banner text is required (DELETE clears the banner)")
	}
	s.editBanner(w, r, id, body.Text, err)
}

func (s *Server) handleClearBanner(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	s.editBanner(w, r, id, "", err)
}

func (s *Server) editBanner(w http.ResponseWriter, r *http.Request, id int64, text string, err error) {
	var inc store.Incident
	if err == nil {
		inc, err = s.deps.Incidents.Edit(r.Context(), actor(r), id, incident.Patch{Banner: &text})
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, inc)
}

func (s *Server) handlePostmortem(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var rep incident.Report
	if err == nil {
		rep, err = s.deps.Incidents.Report(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, rep.Postmortem)
}

func (s *Server) handlePutPostmortem(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var p incident.Postmortem
	if err == nil {
		err = readJSON(w, r, &p)
	}
	if err == nil {
		p, err = s.deps.Incidents.SetPostmortem(r.Context(), actor(r), id, p)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, p)
}

// handlePostmortemMarkdown answers the postmortem as a Markdown file. The
// package escaped everything a person or the chain wrote in it.
func (s *Server) handlePostmortemMarkdown(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var md string
	if err == nil {
		md, err = s.deps.Incidents.Markdown(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="incident-`+strconv.FormatInt(id, 10)+`-postmortem.md"`)
	_, _ = w.Write([]byte(md))
}

func (s *Server) handleIncidentAudit(w http.ResponseWriter, r *http.Request) {
	limit, err := queryUint(r, "limit", 100)
	var l []store.IncidentAudit
	if err == nil {
		l, err = s.deps.Incidents.Audit(r.Context(), int(min(limit, 1000)))
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, l)
}

func (s *Server) handlePostmortemTemplate(w http.ResponseWriter, r *http.Request) {
	body, def, err := s.deps.Incidents.Template(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]any{"body": body, "default": def})
}

func (s *Server) handlePutPostmortemTemplate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Body string `json:"body"`
	}
	err := readJSON(w, r, &body)
	if err == nil {
		err = s.deps.Incidents.SetTemplate(r.Context(), actor(r), body.Body)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.handlePostmortemTemplate(w, r)
}

func (s *Server) handlePreviewTemplate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Body     string `json:"body"`
		Incident int64  `json:"incident"`
	}
	err := readJSON(w, r, &body)
	if err == nil && body.Incident < 0 {
		err = errorf(kindBadRequest, "the incident id %d is not a positive integer", body.Incident)
	}
	var md string
	if err == nil {
		md, err = s.deps.Incidents.PreviewTemplate(r.Context(), body.Body, body.Incident)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"markdown": md})
}

func (s *Server) handleFlags(w http.ResponseWriter, r *http.Request) {
	l, err := s.deps.Incidents.Flags(r.Context(), r.URL.Query().Get("deployment"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if l == nil {
		l = []store.Flag{}
	}
	writeData(w, l)
}

func (s *Server) handlePutFlag(w http.ResponseWriter, r *http.Request) {
	var c incident.FlagChange
	err := readJSON(w, r, &c)
	var f store.Flag
	if err == nil {
		c.Deployment, c.Name = r.PathValue("deployment"), r.PathValue("name")
		f, err = s.deps.Incidents.SetFlag(r.Context(), actor(r), c)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, f)
}

func (s *Server) handleDeleteFlag(w http.ResponseWriter, r *http.Request) {
	dep, name := r.PathValue("deployment"), r.PathValue("name")
	if err := s.deps.Incidents.DeleteFlag(r.Context(), actor(r), dep, name); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"deleted": dep + "/" + name})
}

func (s *Server) handleComponents(w http.ResponseWriter, r *http.Request) {
	l, err := s.deps.Incidents.Components(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if l == nil {
		l = []store.StatusComponent{}
	}
	writeData(w, l)
}

func (s *Server) handlePutComponent(w http.ResponseWriter, r *http.Request) {
	var c store.StatusComponent
	err := readJSON(w, r, &c)
	if err == nil {
		if c.ID != "" && c.ID != r.PathValue("id") {
			err = errorf(kindBadRequest, "the body's id %q is not the URL's", c.ID)
		}
		c.ID = r.PathValue("id")
	}
	if err == nil {
		err = s.deps.Incidents.PutComponent(r.Context(), actor(r), c)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// Answer the component as stored (its address checksummed).
	l, err := s.deps.Incidents.Components(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	for _, x := range l {
		if x.ID == c.ID {
			c = x
		}
	}
	writeData(w, c)
}

func (s *Server) handleDeleteComponent(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Incidents.DeleteComponent(r.Context(), actor(r), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}
