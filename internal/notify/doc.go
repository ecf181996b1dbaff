// Package notify delivers alert notifications: the channels (webhook with an
// HMAC-SHA256 signature, Slack incoming webhooks in Block Kit, Discord
// webhooks with embeds, the Telegram Bot API, email over SMTP with
// STARTTLS, PagerDuty Events API v2) and the persisted outbox that sends
// them at least once, with exponential backoff and jitter, honouring
// Retry-After, until a maximum age sends them to the dead letters.
//
// Several nodes may share one outbox: a sender claims each delivery before
// sending it (store.Outbox.Claim) and its outcome is recorded only while
// it holds the claim, so that no delivery goes to two senders at once, and
// a dead sender's claims come back when they end (30 s by default). One
// duplicate remains possible: a sender that sent a delivery and died (or
// lost its store) before recording it leaves it pending, and the next
// sender sends it again. That window is the time between the receiver's
// answer and the outcome's write, milliseconds in practice. Every webhook
// request carries the notification's key in the Idempotency-Key header
// (the same for every retry of one alert transition; with its HMAC
// signature in X-Blocktorch-Signature), so a receiver can drop that
// duplicate; PagerDuty deduplicates on its dedup_key the same way.
//
// Everything in a message may come from the chain and is attacker
// controlled: each channel escapes it for its markup and disables
// mentions. Channel secrets (tokens in URLs, keys, passwords) never appear
// in errors or logs: channels scrub them from every error they return.
package notify
