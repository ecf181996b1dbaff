package notify

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"strings"
	"time"
)

// telegram sends with the Bot API's sendMessage, in HTML mode.
// https://core.telegram.org/bots/api#sendmessage
type telegram struct {
	spec Spec
	h    httpSender
}

func telegramText(m Message) string {
	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(m.Title()) + "</b>\n")
	b.WriteString(html.EscapeString(m.Summary))
	if m.Details != "" {
		b.WriteString("\n" + html.EscapeString(m.Details))
	}
	for _, f := range m.facts() {
		b.WriteString("\n<b>" + html.EscapeString(f[0]) + ":</b> <code>" + html.EscapeString(f[1]) + "</code>")
	}
	for _, l := range m.Links {
		b.WriteString("\n<a href=\"" + html.EscapeString(l.URL) + "\">" + html.EscapeString(l.Text) + "</a>")
	}
	text := b.String()
	if len([]rune(text)) > 4096 {
		// Cutting HTML could break a tag: send the escaped headline alone.
		text = "<b>" + html.EscapeString(truncate(m.Title(), 200)) + "</b>\n" + html.EscapeString(truncate(m.Summary, 3500))
	}
	return text
}

func (t *telegram) Send(ctx context.Context, m Message) error {
	base := strings.TrimRight(t.spec.URL, "/")
	if base == "" {
		base = "https://api.telegram.org"
	}
	body := marshal(map[string]any{
		"chat_id":                  t.spec.ChatID,
		"text":                     telegramText(m),
		"parse_mode":               "HTML",
		"disable_web_page_preview": true,
	})
	answer, err := t.h.post(ctx, base+"/bot"+t.spec.Token+"/sendMessage", body, nil, func(body []byte) time.Duration {
		var v struct {
			Parameters struct {
				RetryAfter int `json:"retry_after"`
			} `json:"parameters"`
		}
		if json.Unmarshal(body, &v) == nil && v.Parameters.RetryAfter > 0 && v.Parameters.RetryAfter < 86400 {
			return time.Duration(v.Parameters.RetryAfter) * time.Second
		}
		return 0
	})
	if err != nil {
		return err
	}
	var ok struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	if json.Unmarshal(answer, &ok) == nil && !ok.OK {
		return t.h.scrub.err(&SendError{Err: errors.New("telegram refused the message: " + ok.Description)})
	}
	return nil
}
