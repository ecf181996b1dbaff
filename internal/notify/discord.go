package notify

import (
	"context"
	"encoding/json"
	"time"
)

// discord posts to a Discord webhook with an embed.
// https://discord.com/developers/docs/resources/webhook#execute-webhook
type discord struct {
	spec Spec
	h    httpSender
}

var discordColors = map[string]int{
	StatusFiring:    0xd93025,
	StatusResolved:  0x188038,
	StatusRetracted: 0x80868b,
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Color       int            `json:"color"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Fields      []discordField `json:"fields,omitempty"`
}

func discordPayload(m Message) map[string]any {
	desc := m.Summary
	if m.Details != "" {
		desc += "\n" + m.Details
	}
	for _, l := range m.Links {
		desc += "\n[" + l.Text + "](" + l.URL + ")"
	}
	e := discordEmbed{
		Title:       truncate(m.Title(), 256),
		Description: truncate(desc, 4096),
		Color:       discordColors[m.Status],
	}
	if len(m.Links) > 0 {
		e.URL = m.Links[0].URL
	}
	if !m.Time.IsZero() {
		e.Timestamp = m.Time.UTC().Format(time.RFC3339)
	}
	for _, f := range m.facts() {
		if len(e.Fields) == 25 {
			break
		}
		e.Fields = append(e.Fields, discordField{Name: truncate(f[0], 256), Value: truncate(f[1], 1024), Inline: len(f[1]) < 40})
	}
	return map[string]any{
		"username": "blocktorch",
		"embeds":   []discordEmbed{e},
		// No @everyone, role or user pings from text an attacker wrote.
		"allowed_mentions": map[string]any{"parse": []string{}},
	}
}

func (d *discord) Send(ctx context.Context, m Message) error {
	_, err := d.h.post(ctx, d.spec.URL, marshal(discordPayload(m)), nil, func(body []byte) time.Duration {
		var v struct {
			RetryAfter float64 `json:"retry_after"`
		}
		if json.Unmarshal(body, &v) == nil && v.RetryAfter > 0 && v.RetryAfter < 86400 {
			return time.Duration(v.RetryAfter * float64(time.Second))
		}
		return 0
	})
	return err
}
