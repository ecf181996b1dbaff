package notify

import (
	"context"
	"strings"
)

// slack posts to a Slack incoming webhook in Block Kit.
// https://api.slack.com/messaging/webhooks, https://api.slack.com/block-kit
type slack struct {
	spec Spec
	h    httpSender
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control: with them, text could ping <!channel> or fake a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

type slackButton struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
	URL  string    `json:"url"`
}

func slackPayload(m Message) map[string]any {
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(m.Title(), 150)}},
	}
	text := "*" + slackEscape(m.Summary) + "*"
	if m.Details != "" {
		text += "\n" + slackEscape(m.Details)
	}
	blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(text, 3000)}})
	var fields []slackText
	for _, f := range m.facts() {
		if len(fields) == 10 { // Block Kit's limit per section
			break
		}
		fields = append(fields, slackText{Type: "mrkdwn", Text: truncate("*"+slackEscape(f[0])+"*\n"+slackEscape(f[1]), 2000)})
	}
	if len(fields) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	var buttons []any
	for _, l := range m.Links {
		if len(buttons) == 5 {
			break
		}
		buttons = append(buttons, slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: truncate(l.Text, 75)}, URL: l.URL})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slackBlock{Type: "actions", Elements: buttons})
	}
	return map[string]any{
		// text is the fallback shown in notifications.
		"text":   truncate(slackEscape(m.Title()+": "+m.Summary), 3000),
		"blocks": blocks,
	}
}

func (s *slack) Send(ctx context.Context, m Message) error {
	_, err := s.h.post(ctx, s.spec.URL, marshal(slackPayload(m)), nil, nil)
	return err
}
