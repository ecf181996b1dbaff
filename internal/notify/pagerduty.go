package notify

import (
	"context"
	"strings"
	"time"
)

// pagerDuty sends Events API v2 trigger and resolve events, deduplicated by
// the alert's key. https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
type pagerDuty struct {
	spec Spec
	h    httpSender
}

var pdSeverities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

func pagerDutyPayload(routingKey string, m Message) map[string]any {
	dedup := truncate(m.AlertKey, 255)
	if m.Status != StatusFiring {
		// Resolving (and retracting: the alert's block is gone) closes the
		// incident the trigger opened.
		return map[string]any{"routing_key": routingKey, "event_action": "resolve", "dedup_key": dedup}
	}
	sev := m.Severity
	if !pdSeverities[sev] {
		sev = "warning"
	}
	details := map[string]any{"monitor": m.MonitorID}
	for _, f := range m.facts() {
		details[f[0]] = f[1]
	}
	if m.Details != "" {
		details["details"] = m.Details
	}
	payload := map[string]any{
		"summary":        truncate(m.Monitor+": "+m.Summary, 1024),
		"source":         "blocktorch",
		"severity":       sev,
		"component":      m.MonitorID,
		"custom_details": details,
	}
	if !m.Time.IsZero() {
		payload["timestamp"] = m.Time.UTC().Format(time.RFC3339Nano)
	}
	var links []map[string]string
	for _, l := range m.Links {
		links = append(links, map[string]string{"href": l.URL, "text": l.Text})
	}
	ev := map[string]any{
		"routing_key":  routingKey,
		"event_action": "trigger",
		"dedup_key":    dedup,
		"payload":      payload,
		"client":       "blocktorch",
	}
	if len(links) > 0 {
		ev["links"] = links
	}
	return ev
}

func (p *pagerDuty) Send(ctx context.Context, m Message) error {
	base := strings.TrimRight(p.spec.URL, "/")
	if base == "" {
		base = "https://events.pagerduty.com"
	}
	_, err := p.h.post(ctx, base+"/v2/enqueue", marshal(pagerDutyPayload(p.spec.RoutingKey, m)), nil, nil)
	return err
}
