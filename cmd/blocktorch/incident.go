package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

var (
	incidentOpenSpec = spec{
		name: "incident open", args: "['TITLE']", min: 0, max: 1,
		short:   "open an incident (by hand, from an alert or from a search)",
		example: "blocktorch incident open 'Withdrawals failing' --severity critical",
		about: `Open an incident on a running server and print its number and page. The title is required
unless --alert names the firing alert it comes from (MONITOR/KEY, as notifications carry it:
the title then takes the alert's summary). --search opens it from a search, whose records
start its window. Every opening goes to the monitors' channels as a stakeholder update.`,
	}
	incidentUpdateSpec = spec{
		name: "incident update", args: "ID 'TEXT'", min: 2, max: 2,
		short:   "add a note or an update to an incident, or change its status",
		example: "blocktorch incident update 3 'Oracle feed restored' --status mitigated --public",
		about: `Add TEXT to an incident's timeline: a note for the team, an update on the public status
page with --public, sent to the incident's channels with --notify. With --status, TEXT goes
with a status change (investigating, identified, mitigated, resolved), which is always sent
to the channels.`,
	}
	incidentCloseSpec = spec{
		name: "incident close", args: "ID ['MESSAGE']", min: 1, max: 2,
		short:   "resolve an incident",
		example: "blocktorch incident close 3 'Funds are safe; withdrawals work again' --public",
		about:   `Resolve an incident, with a message for its channels (and the status page with --public).`,
	}
	incidentListSpec = spec{
		name: "incident list", min: 0, max: 0,
		short: "the server's incidents, newest first",
		about: "List the server's incidents, newest first, with their severity, status and owner.",
	}
	incidentExportSpec = spec{
		name: "incident export", args: "ID", min: 1, max: 1,
		short:   "write an incident's postmortem as Markdown",
		example: "blocktorch incident export 3 -o postmortem-3.md",
		about: `Write an incident's postmortem as Markdown (summary, impact figures, timeline, root cause,
action items, review) from the server's postmortem template, to stdout or to --output.`,
	}
	incidentTemplateGetSpec = spec{
		name: "incident template get", min: 0, max: 0,
		short:   "print the postmortem template in force",
		example: "blocktorch incident template get -o postmortem.tmpl",
		about: `Print the server's postmortem template (Go text/template; the default until one is set), to
stdout or to --output, to edit it and set it back.`,
	}
	incidentTemplateSetSpec = spec{
		name: "incident template set", args: "FILE", min: 0, max: 1,
		short:   "set the postmortem template from FILE (--default: back to the default)",
		example: "blocktorch incident template set postmortem.tmpl",
		about: `Set the server's postmortem template from FILE ("-": stdin). The server saves it only if it
parses and renders a sample incident; otherwise it says why and keeps the template in force.
--default restores the default template. Everything people or the chain wrote reaches the
template already escaped for Markdown.`,
	}
	incidentTemplateGroup = group{
		name:  "incident template",
		about: "The postmortem template of a running server. Each subcommand takes --server, --key and --as.",
	}
	incidentTemplateSpec = spec{name: "incident template", args: "get|set", noFlags: true, short: "get or set the postmortem template"}
	incidentGroup        = group{
		name:  "incident",
		about: "Incidents on a running server. Each subcommand takes --server, --key and --as.",
	}

	statusComponentsSpec = spec{
		name: "status components", min: 0, max: 0,
		short: "the public status page's components and what it shows for each",
		about: `List the components of the server's public status page (/status): id, public name, kind,
the contract or service it stands for, position, and the state the page shows for it.`,
	}
	statusSetSpec = spec{
		name: "status set", args: "ID", min: 1, max: 1,
		short:   "add a component to the status page, or change one",
		example: "blocktorch status set vault --name 'Lending vault' --contract 0x…",
		about: `Add a component to the server's public status page, or change one (the flags not given keep
their value): a contract (--contract ADDRESS) or a service of the logs (--service NAME) under a
public --name, in the --status set by hand (auto: the incidents decide). An open public
incident that names the contract or the service shows on it, worse than that state if it is.`,
	}
	statusRemoveSpec = spec{
		name: "status remove", args: "ID", min: 1, max: 1,
		short:   "remove a component from the status page",
		example: "blocktorch status remove vault",
		about:   "Remove a component from the server's public status page.",
	}
	statusGroup = group{
		name:  "status",
		about: "The components of a running server's public status page (/status). Each subcommand takes --server, --key and --as.",
	}

	flagsSetSpec = spec{
		name: "flags set", args: "NAME on|off|PERCENT", min: 2, max: 2,
		short:   "switch a dApp feature off, on, or on for a percentage of users",
		example: "blocktorch flags set borrow off --deployment app",
		about: `Set a kill switch that dApp front ends read from /api/v1/public/flags (with /sdk/flags.js):
off hides or disables the feature, on restores it, a number from 1 to 100 restores it for
that percentage of users (each user keeps their answer). The change is audited and written
on the open incident's timeline.`,
	}
	flagsListSpec = spec{
		name: "flags list", min: 0, max: 0,
		short: "the server's kill switches",
		about: "List the server's kill switches with their state.",
	}
	flagsGroup = group{
		name:  "flags",
		about: "Kill switches of dApp front ends on a running server. Each subcommand takes --server, --key and --as.",
	}
)

// changeFlags are the flags of commands that change something: the
// server's flags and who the audit log names.
type changeFlags struct {
	serverFlags
	as      string
	audited bool // --as is registered; the client names who acts
}

func (f *changeFlags) register(fs *flag.FlagSet) {
	f.serverFlags.register(fs, "")
	fs.StringVar(&f.as, "as", "", "`NAME` the audit log and timeline show for this change (default $USER)")
}

// serverCommand starts a subcommand that talks to a running server: its
// flag set with --server and --key, and --as when it changes something
// the server audits (incidents, flags, the status page).
func serverCommand(sp spec, audited bool) (*flag.FlagSet, *changeFlags) {
	fs := sp.newFlags()
	cf := &changeFlags{audited: audited}
	if audited {
		cf.register(fs)
	} else {
		cf.serverFlags.register(fs, "")
	}
	return fs, cf
}

func (f *changeFlags) client() *client {
	c := f.serverFlags.client(defaultServer)
	if !f.audited {
		return c
	}
	c.actor = f.as
	if c.actor == "" {
		c.actor = os.Getenv("USER")
	}
	return c
}

// runIncident is "blocktorch incident open|update|close|list|export".
func runIncident(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := incidentGroup
	g.subs = []groupSub{
		{incidentOpenSpec, func(args []string) error { return runIncidentOpen(ctx, args, stdout) }},
		{incidentUpdateSpec, func(args []string) error { return runIncidentUpdate(ctx, args, stdout) }},
		{incidentCloseSpec, func(args []string) error { return runIncidentClose(ctx, args, stdout) }},
		{incidentListSpec, func(args []string) error { return runIncidentList(ctx, args, stdout) }},
		{incidentExportSpec, func(args []string) error { return runIncidentExport(ctx, args, stdout) }},
		{incidentTemplateSpec, func(args []string) error {
			tg := incidentTemplateGroup
			tg.subs = []groupSub{
				{incidentTemplateGetSpec, func(args []string) error { return runTemplateGet(ctx, args, stdout) }},
				{incidentTemplateSetSpec, func(args []string) error { return runTemplateSet(ctx, args, stdout) }},
			}
			return tg.run(args, stdout)
		}},
	}
	return g.run(args, stdout)
}

// runStatus is "blocktorch status components|set|remove".
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := statusGroup
	g.subs = []groupSub{
		{statusComponentsSpec, func(args []string) error { return runStatusComponents(ctx, args, stdout) }},
		{statusSetSpec, func(args []string) error { return runStatusSet(ctx, args, stdout) }},
		{statusRemoveSpec, func(args []string) error { return runStatusRemove(ctx, args, stdout) }},
	}
	return g.run(args, stdout)
}

// runFlags is "blocktorch flags set|list".
func runFlags(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := flagsGroup
	g.subs = []groupSub{
		{flagsSetSpec, func(args []string) error { return runFlagsSet(ctx, args, stdout) }},
		{flagsListSpec, func(args []string) error { return runFlagsList(ctx, args, stdout) }},
	}
	return g.run(args, stdout)
}

// cliIncident is what the CLI prints of an incident.
type cliIncident struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	Owner    string    `json:"owner"`
	Started  time.Time `json:"started"`
	Resolved time.Time `json:"resolved"`
}

// changed is the answer of a change whose stakeholder update may not have
// been sent.
type changed struct {
	Incident cliIncident `json:"incident"`
	Warning  string      `json:"warning"`
}

func warn(w io.Writer, c changed) {
	if c.Warning != "" {
		fmt.Fprintf(w, "warning: %s\n", oneLine(c.Warning))
	}
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return b
}

func runIncidentOpen(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentOpenSpec
	fs, cf := serverCommand(sp, true)
	var contracts, services, channels multiFlag
	severity := fs.String("severity", "major", "critical, major or minor")
	owner := fs.String("owner", "", "`NAME` of who leads the response")
	summary := fs.String("summary", "", "what is known so far, for the team")
	fs.Var(&contracts, "contract", "affected contract `ADDRESS` (repeat for more)")
	fs.Var(&services, "service", "affected log `SERVICE` (repeat for more)")
	fs.Var(&channels, "channel", "notification `CHANNEL` for its updates (repeat; default every channel)")
	public := fs.Bool("public", false, "show it on the public status page")
	publicTitle := fs.String("public-title", "", "the `TITLE` the status page shows")
	banner := fs.String("banner", "", "the users' warning dApps show while it is open (\"do not sign transactions to 0x…\")")
	alert := fs.String("alert", "", "open it from the firing alert `MONITOR/KEY`")
	search := fs.String("search", "", "open it from the search `QUERY`")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	body := map[string]any{"severity": *severity, "owner": *owner, "summary": *summary, "contracts": []string(contracts),
		"services": []string(services), "channels": []string(channels), "public": *public, "publicTitle": *publicTitle, "banner": *banner}
	if len(pos) == 1 {
		body["title"] = pos[0]
	}
	switch {
	case *alert != "" && *search != "":
		return sp.errorf("--alert and --search exclude each other")
	case *alert != "":
		mon, key, _ := strings.Cut(*alert, "/")
		body["alert"] = map[string]string{"monitor": mon, "key": key}
	case *search != "":
		body["search"] = map[string]string{"query": *search}
	case len(pos) == 0:
		return sp.errorf("missing 'TITLE' (or --alert MONITOR/KEY) (for example: %s)", sp.example)
	}
	c := cf.client()
	var out changed
	if err := c.post(ctx, "/api/v1/incidents", "application/json", jsonBody(body), &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "incident %d opened: %s (%s, %s)\n%s/incidents/%d\n", out.Incident.ID, oneLine(out.Incident.Title),
		out.Incident.Severity, out.Incident.Status, c.server, out.Incident.ID)
	warn(stdout, out)
	return nil
}

func parseID(sp spec, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, sp.errorf("the incident ID %q is not a number (blocktorch incident list shows them)", s)
	}
	return id, nil
}

func runIncidentUpdate(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentUpdateSpec
	fs, cf := serverCommand(sp, true)
	status := fs.String("status", "", "move the incident to `STATUS` with TEXT as its message")
	public := fs.Bool("public", false, "show TEXT on the public status page")
	notify := fs.Bool("notify", false, "send TEXT to the incident's channels (a status change always is)")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	id, err := parseID(sp, pos[0])
	if err != nil {
		return err
	}
	if *status != "" {
		return setStatus(ctx, cf.client(), stdout, id, *status, pos[1], *public)
	}
	var out changed
	path := "/api/v1/incidents/" + strconv.FormatInt(id, 10) + "/notes"
	if err := cf.client().post(ctx, path, "application/json", jsonBody(map[string]any{"text": pos[1], "public": *public, "notify": *notify}), &out); err != nil {
		return err
	}
	what := "note"
	if *public || *notify {
		what = "update"
	}
	fmt.Fprintf(stdout, "incident %d: %s added\n", id, what)
	warn(stdout, out)
	return nil
}

func setStatus(ctx context.Context, c *client, stdout io.Writer, id int64, status, msg string, public bool) error {
	var out changed
	path := "/api/v1/incidents/" + strconv.FormatInt(id, 10) + "/status"
	if err := c.post(ctx, path, "application/json", jsonBody(map[string]any{"status": status, "message": msg, "public": public}), &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "incident %d: %s\n", id, out.Incident.Status)
	warn(stdout, out)
	return nil
}

func runIncidentClose(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentCloseSpec
	fs, cf := serverCommand(sp, true)
	public := fs.Bool("public", false, "show MESSAGE on the public status page")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	id, err := parseID(sp, pos[0])
	if err != nil {
		return err
	}
	msg := ""
	if len(pos) == 2 {
		msg = pos[1]
	}
	return setStatus(ctx, cf.client(), stdout, id, "resolved", msg, *public)
}

func runIncidentList(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentListSpec
	fs, cf := serverCommand(sp, true)
	open := fs.Bool("open", false, "only the incidents not resolved")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	path := "/api/v1/incidents"
	if *open {
		path += "?open=1"
	}
	var l []cliIncident
	if err := cf.client().get(ctx, path, &l); err != nil {
		return err
	}
	for _, inc := range l {
		fmt.Fprintf(stdout, "%-5d %-8s %-13s %-20s %-12s %s\n", inc.ID, oneLine(inc.Severity), oneLine(inc.Status),
			inc.Started.Local().Format(time.DateTime), oneLine(inc.Owner), oneLine(inc.Title))
	}
	return nil
}

func runIncidentExport(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentExportSpec
	fs, cf := serverCommand(sp, true)
	output := fs.String("output", "", "write the Markdown to `FILE` instead of stdout")
	fs.StringVar(output, "o", "", "short for --output")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	id, err := parseID(sp, pos[0])
	if err != nil {
		return err
	}
	c := cf.client()
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/postmortem.md", "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	md, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("cannot read the postmortem from %s: %w", c.server, err)
	}
	if resp.StatusCode != http.StatusOK {
		var env apiEnvelope
		if json.Unmarshal(md, &env) == nil && env.Error != "" {
			return fmt.Errorf("%s", env.Error)
		}
		return fmt.Errorf("unexpected answer from %s (HTTP %d): %.200s", c.server, resp.StatusCode, md)
	}
	if *output == "" {
		_, err := stdout.Write(md)
		return err
	}
	if err := os.WriteFile(*output, md, 0o644); err != nil {
		return fmt.Errorf("cannot write the postmortem: %w", err)
	}
	fmt.Fprintf(stdout, "wrote the postmortem of incident %d to %s\n", id, *output)
	return nil
}

func runFlagsSet(ctx context.Context, args []string, stdout io.Writer) error {
	sp := flagsSetSpec
	fs, cf := serverCommand(sp, true)
	deployment := fs.String("deployment", "default", "the dApp `DEPLOYMENT` the flag belongs to")
	description := fs.String("description", "", "what the flag controls (kept when not given)")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	body := map[string]any{"description": *description}
	switch v := strings.ToLower(pos[1]); v {
	case "off":
		body["enabled"] = false
	case "on":
		body["enabled"], body["percent"] = true, 100
	default:
		p, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
		if err != nil || p < 1 || p > 100 {
			return sp.errorf("%q: want on, off or a percentage from 1 to 100", pos[1])
		}
		body["enabled"], body["percent"] = true, p
	}
	var f cliFlag
	path := "/api/v1/flags/" + url.PathEscape(*deployment) + "/" + url.PathEscape(pos[0])
	if err := cf.client().call(ctx, http.MethodPut, path, "application/json", jsonBody(body), &f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s/%s: %s\n", oneLine(f.Deployment), oneLine(f.Name), f.state())
	return nil
}

// cliFlag is a kill switch as the CLI prints it.
type cliFlag struct {
	Deployment  string    `json:"deployment"`
	Name        string    `json:"name"`
	Enabled     bool      `json:"enabled"`
	Percent     int       `json:"percent"`
	Description string    `json:"description"`
	Updated     time.Time `json:"updated"`
	UpdatedBy   string    `json:"updatedBy"`
}

func (f cliFlag) state() string {
	switch {
	case !f.Enabled:
		return "off"
	case f.Percent < 100:
		return fmt.Sprintf("on for %d%% of users", f.Percent)
	}
	return "on"
}

func runFlagsList(ctx context.Context, args []string, stdout io.Writer) error {
	sp := flagsListSpec
	fs, cf := serverCommand(sp, true)
	deployment := fs.String("deployment", "", "only this `DEPLOYMENT`'s flags")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	var l []cliFlag
	if err := cf.client().get(ctx, "/api/v1/flags?"+url.Values{"deployment": {*deployment}}.Encode(), &l); err != nil {
		return err
	}
	for _, f := range l {
		by := ""
		if f.UpdatedBy != "" {
			by = " by " + oneLine(f.UpdatedBy)
		}
		fmt.Fprintf(stdout, "%-12s %-20s %-20s %s%s  %s\n", oneLine(f.Deployment), oneLine(f.Name), f.state(),
			f.Updated.Local().Format(time.DateTime), by, oneLine(f.Description))
	}
	return nil
}

// postmortemTemplate is the answer of GET/PUT /api/v1/incidents/template.
type postmortemTemplate struct {
	Body    string `json:"body"`
	Default bool   `json:"default"`
}

func (t postmortemTemplate) which() string {
	if t.Default {
		return "the default template"
	}
	return "the server's template"
}

func runTemplateGet(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentTemplateGetSpec
	fs, cf := serverCommand(sp, true)
	output := fs.String("output", "", "write the template to `FILE` instead of stdout")
	fs.StringVar(output, "o", "", "short for --output")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	var t postmortemTemplate
	if err := cf.client().get(ctx, "/api/v1/incidents/template", &t); err != nil {
		return err
	}
	if *output == "" {
		_, err := io.WriteString(stdout, t.Body)
		return err
	}
	if err := os.WriteFile(*output, []byte(t.Body), 0o644); err != nil {
		return fmt.Errorf("cannot write the template: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s to %s\n", t.which(), *output)
	return nil
}

func runTemplateSet(ctx context.Context, args []string, stdout io.Writer) error {
	sp := incidentTemplateSetSpec
	fs, cf := serverCommand(sp, true)
	def := fs.Bool("default", false, "restore the default template (no FILE)")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	var body []byte
	switch {
	case *def && len(pos) == 1:
		return sp.errorf("give FILE or --default, not both")
	case *def:
	case len(pos) == 0:
		return sp.errorf("missing FILE (or --default) (for example: %s)", sp.example)
	case pos[0] == "-":
		if body, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20)); err != nil {
			return fmt.Errorf("cannot read the template from stdin: %w", err)
		}
	default:
		if body, err = os.ReadFile(pos[0]); err != nil {
			return fmt.Errorf("cannot read the template: %w", err)
		}
	}
	if !*def && strings.TrimSpace(string(body)) == "" {
		return fmt.Errorf("the template in %s is empty: nothing saved (--default restores the default)", pos[0])
	}
	var t postmortemTemplate
	if err := cf.client().call(ctx, http.MethodPut, "/api/v1/incidents/template", "application/json", jsonBody(map[string]string{"body": string(body)}), &t); err != nil {
		return fmt.Errorf("%w; nothing saved, the template in force stays", err)
	}
	fmt.Fprintf(stdout, "%s is in force (%d bytes)\n", t.which(), len(t.Body))
	return nil
}

// cliComponent is a status page component as the API gives it.
type cliComponent struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Ref      string `json:"ref"`
	Position int    `json:"position"`
	Status   string `json:"status,omitempty"`
}

func componentPath(id string) string { return "/api/v1/status/components/" + url.PathEscape(id) }

func runStatusComponents(ctx context.Context, args []string, stdout io.Writer) error {
	sp := statusComponentsSpec
	fs, cf := serverCommand(sp, true)
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	c := cf.client()
	var l []cliComponent
	if err := c.get(ctx, "/api/v1/status/components", &l); err != nil {
		return err
	}
	if len(l) == 0 {
		fmt.Fprintln(stdout, "no components: /status shows the open public incidents only (add one with: blocktorch status set ID --name NAME --contract ADDRESS)")
		return nil
	}
	// What the public page shows for each.
	var page struct {
		Components []struct{ ID, Status string } `json:"components"`
	}
	shown := map[string]string{}
	if err := c.get(ctx, "/status.json", &page); err == nil {
		for _, x := range page.Components {
			shown[x.ID] = x.Status
		}
	}
	fmt.Fprintf(stdout, "%-16s %-24s %-8s %-42s %4s  %-14s %s\n", "ID", "NAME", "KIND", "CONTRACT OR SERVICE", "POS", "SET BY HAND", "ON /status")
	for _, x := range l {
		st := shown[x.ID]
		if st == "" {
			st = "?"
		}
		set := x.Status
		if set == "" {
			set = "auto"
		}
		fmt.Fprintf(stdout, "%-16s %-24s %-8s %-42s %4d  %-14s %s\n", oneLine(x.ID), oneLine(x.Name), oneLine(x.Kind), oneLine(x.Ref), x.Position, oneLine(set), oneLine(st))
	}
	return nil
}

func runStatusSet(ctx context.Context, args []string, stdout io.Writer) error {
	sp := statusSetSpec
	fs, cf := serverCommand(sp, true)
	name := fs.String("name", "", "the public `NAME` the status page shows")
	contract := fs.String("contract", "", "the contract `ADDRESS` it stands for")
	service := fs.String("service", "", "the logs' `SERVICE` it stands for")
	position := fs.Int("position", 0, "its place on the page (lower first)")
	state := fs.String("status", "", "the `STATE` the page shows at least: operational, degraded, partial_outage, major_outage, or auto (the incidents decide)")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if *contract != "" && *service != "" {
		return sp.errorf("--contract and --service exclude each other")
	}
	c := cf.client()
	var l []cliComponent
	if err := c.get(ctx, "/api/v1/status/components", &l); err != nil {
		return err
	}
	comp := cliComponent{ID: pos[0]}
	for _, x := range l {
		if x.ID == pos[0] {
			comp = x
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["name"] {
		comp.Name = *name
	}
	switch {
	case *contract != "":
		comp.Kind, comp.Ref = "contract", *contract
	case *service != "":
		comp.Kind, comp.Ref = "service", *service
	}
	if set["position"] {
		comp.Position = *position
	}
	if set["status"] {
		comp.Status = *state
		if comp.Status == "auto" {
			comp.Status = ""
		}
	}
	if comp.Name == "" || comp.Kind == "" {
		return sp.errorf("a new component needs --name and --contract or --service (for example: %s)", sp.example)
	}
	var out cliComponent
	if err := c.call(ctx, http.MethodPut, componentPath(comp.ID), "application/json", jsonBody(comp), &out); err != nil {
		return err
	}
	shown := out.Status
	if shown == "" {
		shown = "state from the incidents"
	}
	fmt.Fprintf(stdout, "component %s: %s (%s %s), %s, on %s/status\n", oneLine(out.ID), oneLine(out.Name), out.Kind, oneLine(out.Ref), oneLine(shown), c.server)
	return nil
}

func runStatusRemove(ctx context.Context, args []string, stdout io.Writer) error {
	sp := statusRemoveSpec
	fs, cf := serverCommand(sp, true)
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if err := cf.client().call(ctx, http.MethodDelete, componentPath(pos[0]), "", nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "component %s removed from the status page\n", oneLine(pos[0]))
	return nil
}
