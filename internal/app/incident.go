package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/notify"
)

// startIncidents builds the incident service: its state in the store, its
// scope from the records, alerts from the monitors' history, and its
// stakeholder updates through the monitors' outbox.
func (a *App) startIncidents() {
	a.incidents = incident.New(incident.Deps{
		Store: a.store, Search: a.records, Alerts: a.store, Monitors: a.store, Notify: a.stakeholderUpdate,
	}, incident.Options{BaseURL: a.URL(), Logger: a.log})
}

// pdSeverity maps an incident's severity onto the alert severities
// channels know.
var pdSeverity = map[string]string{"critical": "critical", "major": "error", "minor": "warning"}

// stakeholderUpdate sends an incident update to its channels, or to every
// channel the monitors know when it names none, through the outbox (at
// least once, retried, dead-lettered like alerts).
func (a *App) stakeholderUpdate(ctx context.Context, u incident.Update) error {
	channels := u.Channels
	if len(channels) == 0 {
		defs, err := a.store.ChannelDefs(ctx)
		if err != nil {
			return err
		}
		for _, d := range defs {
			channels = append(channels, d.Name)
		}
	}
	if len(channels) == 0 || a.outbox == nil {
		return nil
	}
	inc := u.Incident
	m := notify.Message{
		Key: u.Key, Status: inc.Status, MonitorID: "incident-" + strconv.FormatInt(inc.ID, 10),
		Monitor: fmt.Sprintf("Incident %d: %s", inc.ID, inc.Title), Severity: pdSeverity[inc.Severity],
		AlertKey: "incident/" + strconv.FormatInt(inc.ID, 10), Summary: u.Entry.Text,
		StartsAt: inc.Started, Time: u.Entry.Time, Links: []notify.Link{{Text: "Incident", URL: u.Link}},
	}
	if !inc.Resolved.IsZero() {
		m.EndsAt = inc.Resolved
	}
	if inc.Owner != "" {
		m.Labels = map[string]string{"owner": inc.Owner}
	}
	_, err := a.outbox.Enqueue(ctx, m, channels)
	return err
}
