// Package notify delivers alert notifications: the channels (webhook with an
// HMAC-SHA256 signature, Slack incoming webhooks in Block Kit, Discord
// webhooks with embeds, the Telegram Bot API, email over SMTP with
// STARTTLS, PagerDuty Events API v2) and the persisted outbox that sends
// them at least once, with exponential backoff and jitter, honouring
// Retry-After, until a maximum age sends them to the dead letters.
//
// Everything in a message may come from the chain and is attacker
// controlled: each channel escapes it for its markup and disables
// mentions. Channel secrets (tokens in URLs, keys, passwords) never appear
// in errors or logs: channels scrub them from every error they return.
package notify
