// Package incident runs incidents: one is opened from an alert, a search or
// by hand; it has a severity, a status that moves investigating →
// identified → mitigated → resolved, an owner, and the contracts and
// services it affects. Around it:
//
//   - the timeline: the entries people and other capabilities add (status
//     changes, notes, updates, linked searches and dashboards, debugged
//     transactions with their failing line, emergency actions, kill-switch
//     changes), merged with what the data holds over the incident's window
//     (alert transitions, pause/unpause, role and ownership events of the
//     affected contracts);
//   - the scope of impact, computed from the records over the window and
//     compared with the same window a day earlier;
//   - stakeholder updates: every status change and every update marked
//     "notify" is handed to a Notifier (the app sends it to the monitors'
//     channels);
//   - the public side: the status page's components and public incidents,
//     the user-warning banner and the kill switches (flags) of dApp front
//     ends, each with an ETag, holding only what was written for the public;
//   - the postmortem: its fields, the review checklist and its Markdown,
//     built from an editable text/template in which everything a person
//     typed is already escaped.
//
// Every change is written to the audit log with who made it. The package
// serves no HTTP: internal/web calls its Go API. AddTimelineEntry is the
// entry point other capabilities use to write on the open incident.
package incident
