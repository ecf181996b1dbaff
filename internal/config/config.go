package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Mode says where the chain comes from.
type Mode string

const (
	// ModeDemo runs the embedded chain and the demo app.
	ModeDemo Mode = "demo"
	// ModeServe follows an external node.
	ModeServe Mode = "serve"
)

// Config is every setting of a blocktorch server.
type Config struct {
	Mode Mode
	// Addr is the HTTP listen address of the UI and API.
	Addr string
	// DataDir holds the SQLite database (and, in the demo, the chain).
	DataDir string
	// DB is the relational store: "sqlite:PATH" or a bare path, or a
	// postgres:// URL (PostgreSQL, for several nodes on one database);
	// empty means DataDir/blocktorch.db.
	DB string
	// Records is the records engine, where chain records and off-chain
	// logs are stored and searched: RecordsSQLite (in the SQLite store,
	// with its full-text index), RecordsEmbedded (VictoriaLogs' storage in
	// process, under DataDir/records) or the http://HOST:PORT of an
	// external VictoriaLogs, single node or cluster, that every node of a
	// deployment shares. The relational state stays in DB either way.
	Records string

	// RPC is the node URL (serve mode): http(s):// or ws(s)://.
	RPC string
	// RPCRate limits requests per second to the node; 0 is unlimited.
	RPCRate float64

	// From is the first block to index on an empty store; negative counts
	// back from the head.
	From int64
	// Confirmations keeps indexing that many blocks behind the head.
	Confirmations uint64
	// BatchSize is blocks per backfill batch.
	BatchSize uint64
	// PollInterval is how often the head is polled.
	PollInterval time.Duration

	// Off-chain logs.
	SyslogAddr   string // host:port for syslog (RFC 5424 and RFC 3164) over TCP and UDP; empty: off
	Retention    string // per source, e.g. "app=30d,security=90d"
	IngestKeys   string // comma-separated keys every HTTP log ingest door requires; empty: open
	AllowOrigins string // comma-separated origins browsers may post logs from

	// Monitors and alerts.
	MonitorsFile string // monitors.yaml applied at start
	AlertWebhook string // a webhook every built-in monitor notifies
	AlertSecret  string // HMAC secret signing AlertWebhook's bodies
	AlertSlack   string // a Slack incoming-webhook URL every built-in monitor notifies
	// NotifyAllowPrivate lets notifications reach loopback, private,
	// link-local and other non-public addresses; NotifyAllow lists the
	// comma-separated networks allowed although not public.
	NotifyAllowPrivate bool
	NotifyAllow        string

	// OperatorKey, when set, closes the UI and API to anyone without it
	// (share links, health, metrics and log ingest stay open).
	OperatorKey string
	// AllowedHosts are the comma-separated Host names the server answers
	// to besides localhost, 127.0.0.1 and [::1] (its public name behind a
	// reverse proxy).
	AllowedHosts string

	// Response actions. The EOA that signs them is read from an encrypted
	// keystore file (its password from SignerPasswordFile or the variable
	// BLOCKTORCH_SIGNER_PASSWORD) or from BLOCKTORCH_SIGNER_KEY; key and
	// password files must be readable by their owner only.
	SignerKeystore     string
	SignerPasswordFile string
	// ScenariosFile is a scenarios YAML file (response.ParseScenarios):
	// named actions run by hand or by monitors' firings.
	ScenariosFile string
	// Safe is the address of a Safe whose owners sign response actions
	// proposed to it; the EOA signer executes them. In the demo, the
	// demo's own Safe when empty.
	Safe string
	// Guard runs the mempool guard: "on", "off", or "auto" (the default):
	// on in the demo and when ScenariosFile is given.
	Guard string

	// Demo settings.
	ChainRPCAddr  string        // where the embedded chain serves JSON-RPC
	BlockInterval time.Duration // embedded chain block time
	TrafficRate   float64       // demo transactions per second
	Incident      bool          // run the scripted incident after IncidentDelay
	IncidentDelay time.Duration
}

// Mempool guard settings (Config.Guard).
const (
	GuardOn   = "on"
	GuardOff  = "off"
	GuardAuto = "auto"
)

// GuardEnabled reports whether the mempool guard runs: on, or auto in the
// demo or with a scenarios file.
func (c *Config) GuardEnabled() bool {
	switch c.Guard {
	case GuardOn:
		return true
	case GuardOff:
		return false
	}
	return c.Mode == ModeDemo || c.ScenariosFile != ""
}

// Records engines (Config.Records) besides an http:// URL.
const (
	RecordsSQLite   = "sqlite"
	RecordsEmbedded = "embedded"
)

// DefaultRecords is the records engine when --records is not given.
const DefaultRecords = RecordsEmbedded

// Default returns the defaults for a mode.
func Default(mode Mode) Config {
	c := Config{
		Mode:          mode,
		Addr:          "127.0.0.1:8080",
		DataDir:       "blocktorch-data",
		Records:       DefaultRecords,
		Confirmations: 0,
		BatchSize:     100,
		PollInterval:  time.Second,
		ChainRPCAddr:  "127.0.0.1:8545",
		BlockInterval: time.Second,
		TrafficRate:   4,
		IncidentDelay: 20 * time.Second,
		Guard:         GuardAuto,
	}
	if mode == ModeServe {
		c.From = -1000
		c.PollInterval = 2 * time.Second
	}
	return c
}

// RegisterFlags binds the flags of the mode to c; defaults are c's values.
// Each flag can also be set by its BLOCKTORCH_ variable (BLOCKTORCH_RPC for
// --rpc), which the command line overrides.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address of the UI and API")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (SQLite database; the demo's chain too)")
	fs.StringVar(&c.DB, "db", c.DB, "relational store: sqlite:PATH (default DATA/blocktorch.db) or postgres://USER@HOST:5432/DB (PostgreSQL; set it through BLOCKTORCH_DB when the URL holds a password)")
	fs.StringVar(&c.Records, "records", c.Records, "records engine for chain records and logs: embedded (VictoriaLogs storage in process, under DATA/records), sqlite (in the --db store), or http://HOST:9428 (an external VictoriaLogs, single node or cluster, shared by every node)")
	fs.Int64Var(&c.From, "from", c.From, "first block to index on an empty store; negative counts back from the head")
	fs.Uint64Var(&c.Confirmations, "confirmations", c.Confirmations, "stay this many blocks behind the head")
	fs.Uint64Var(&c.BatchSize, "batch", c.BatchSize, "blocks per backfill batch")
	fs.DurationVar(&c.PollInterval, "poll", c.PollInterval, "head polling interval")
	fs.StringVar(&c.OperatorKey, "operator-key", c.OperatorKey, "require this key to use the UI and API (set it through BLOCKTORCH_OPERATOR_KEY, not the command line); share links stay open")
	fs.StringVar(&c.AllowedHosts, "allowed-hosts", c.AllowedHosts, "host name(s), comma-separated, the UI and API answer to besides localhost, 127.0.0.1 and [::1] (the public name behind a reverse proxy); others are refused")
	fs.StringVar(&c.SignerKeystore, "signer-keystore", c.SignerKeystore, "encrypted JSON keystore of the account that signs response actions (mode 0600; password in --signer-password-file or BLOCKTORCH_SIGNER_PASSWORD); or put a hex key in BLOCKTORCH_SIGNER_KEY")
	fs.StringVar(&c.SignerPasswordFile, "signer-password-file", c.SignerPasswordFile, "file holding the --signer-keystore password (mode 0600)")
	fs.StringVar(&c.ScenariosFile, "scenarios", c.ScenariosFile, "response scenarios `FILE` (YAML): named actions run in order by hand (blocktorch respond run NAME) or when their monitors fire")
	fs.StringVar(&c.Safe, "safe", c.Safe, "`ADDRESS` of a Safe whose owners sign response actions proposed to it (the demo's own Safe in the demo); the signer executes them")
	fs.StringVar(&c.Guard, "guard", c.Guard, "mempool guard: on, off or auto (on in the demo and with --scenarios): simulates pending transactions, raises pending alerts on the monitors they would fire and runs those monitors' scenarios ahead of them; needs a ws:// node URL")
	fs.StringVar(&c.MonitorsFile, "monitors", c.MonitorsFile, "apply this monitors.yaml at start (see schemas/monitors.schema.json)")
	fs.StringVar(&c.AlertWebhook, "alert-webhook", c.AlertWebhook, "send the built-in monitors' alerts to this webhook URL (JSON, signed with --alert-secret)")
	fs.StringVar(&c.AlertSecret, "alert-secret", c.AlertSecret, "HMAC-SHA256 secret for --alert-webhook signatures (prefer BLOCKTORCH_ALERT_SECRET)")
	fs.StringVar(&c.AlertSlack, "alert-slack", c.AlertSlack, "send the built-in monitors' alerts to this Slack incoming-webhook URL")
	fs.BoolVar(&c.NotifyAllowPrivate, "notify-allow-private", c.NotifyAllowPrivate, "let notification channels reach loopback, private, link-local and other non-public addresses (refused by default against SSRF)")
	fs.StringVar(&c.NotifyAllow, "notify-allow", c.NotifyAllow, "networks or addresses, comma-separated, notification channels may reach although not public (e.g. 10.0.0.25,127.0.0.1)")
	fs.StringVar(&c.SyslogAddr, "syslog-addr", c.SyslogAddr, "receive syslog (RFC 5424 and RFC 3164) over TCP and UDP on HOST:PORT (off when empty)")
	fs.StringVar(&c.Retention, "retention", c.Retention, "how long to keep off-chain records per source, e.g. app=30d,security=90d,system=7d")
	fs.StringVar(&c.IngestKeys, "ingest-key", c.IngestKeys, "key(s), comma-separated, that every HTTP log ingest door requires (JSON lines, OTLP, Loki push, browser SDK) as a Bearer token, X-Blocktorch-Key or basic-auth password; empty: no key")
	fs.StringVar(&c.AllowOrigins, "allow-origin", c.AllowOrigins, "origin(s), comma-separated, browsers may post logs from (CORS); * for any")
	switch c.Mode {
	case ModeServe:
		fs.StringVar(&c.RPC, "rpc", c.RPC, "node JSON-RPC URL: http(s)://… or ws(s)://… (required)")
		fs.Float64Var(&c.RPCRate, "rpc-rate", c.RPCRate, "max JSON-RPC requests per second to the node (0: unlimited)")
	case ModeDemo:
		fs.StringVar(&c.ChainRPCAddr, "rpc-addr", c.ChainRPCAddr, "where the embedded chain serves HTTP and WebSocket JSON-RPC (127.0.0.1:PORT)")
		fs.DurationVar(&c.BlockInterval, "block-time", c.BlockInterval, "embedded chain block time")
		fs.Float64Var(&c.TrafficRate, "rate", c.TrafficRate, "demo app transactions per second")
		fs.BoolVar(&c.Incident, "incident", c.Incident, "run the scripted incident (stale oracle, price crash, liquidations, exploit attempts)")
		fs.DurationVar(&c.IncidentDelay, "incident-delay", c.IncidentDelay, "wait this long before the --incident starts")
	}
}

// ApplyEnv sets every flag not given on the command line from its
// BLOCKTORCH_ variable. Call it after fs.Parse.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := "BLOCKTORCH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Validate checks c and fills derived defaults; its errors say what to do.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8080", c.Addr))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	}
	if c.Safe != "" && !isHexAddress(c.Safe) {
		errs = append(errs, fmt.Errorf("--safe %q: want the Safe's address, 0x followed by 40 hex digits", c.Safe))
	}
	switch c.Guard {
	case GuardOn, GuardOff, GuardAuto:
	case "":
		c.Guard = GuardAuto
	default:
		errs = append(errs, fmt.Errorf("--guard %q: want on, off or auto", c.Guard))
	}
	switch c.Mode {
	case ModeServe:
		switch {
		case c.RPC == "":
			errs = append(errs, errors.New("--rpc is required: the node's JSON-RPC URL, e.g. --rpc http://127.0.0.1:8545"))
		case !hasAnyPrefix(c.RPC, "http://", "https://", "ws://", "wss://"):
			errs = append(errs, fmt.Errorf("--rpc %q: want an http://, https://, ws:// or wss:// URL", c.RPC))
		}
		if c.RPCRate < 0 {
			errs = append(errs, errors.New("--rpc-rate must be 0 or more"))
		}
	case ModeDemo:
		if c.BlockInterval < 10*time.Millisecond {
			errs = append(errs, fmt.Errorf("--block-time %s: want at least 10ms", c.BlockInterval))
		}
		if c.TrafficRate < 0 {
			errs = append(errs, errors.New("--rate must be 0 or more"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown mode %q", c.Mode))
	}
	if c.BatchSize == 0 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("--batch %d: want 1 to 10000", c.BatchSize))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, errors.New("--poll must be positive"))
	}
	if c.DB == "" {
		c.DB = "sqlite:" + filepath.Join(c.DataDir, "blocktorch.db")
	}
	if _, ok := c.PostgresDSN(); !ok {
		if _, err := c.SQLitePath(); err != nil {
			errs = append(errs, err)
		}
	} else if c.Records == RecordsSQLite {
		errs = append(errs, errors.New("--records sqlite needs a SQLite --db: with --db postgres:// use --records embedded or http://HOST:PORT"))
	}
	if c.Records == "" {
		c.Records = DefaultRecords
	}
	if _, err := c.RecordsURL(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// PostgresDSN returns DB when it names a PostgreSQL database.
func (c *Config) PostgresDSN() (string, bool) {
	if strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://") {
		return c.DB, true
	}
	return "", false
}

// SQLitePath returns the database file of DB; a postgres:// DB is an
// error (see PostgresDSN).
func (c *Config) SQLitePath() (string, error) {
	switch {
	case strings.HasPrefix(c.DB, "sqlite:"):
		p := strings.TrimPrefix(c.DB, "sqlite:")
		if p == "" {
			return "", errors.New("--db sqlite: needs a path, e.g. --db sqlite:./blocktorch.db")
		}
		return p, nil
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return "", errors.New("--db is a PostgreSQL URL, not a SQLite file")
	case strings.Contains(c.DB, "://"):
		// The text is not repeated: a URL may hold a password.
		return "", errors.New("--db: want sqlite:PATH or postgres://USER@HOST:PORT/DB")
	}
	return c.DB, nil
}

// RecordsURL returns the external VictoriaLogs of Records, or "" for
// the sqlite and embedded engines.
func (c *Config) RecordsURL() (string, error) {
	switch c.Records {
	case RecordsSQLite, RecordsEmbedded:
		return "", nil
	}
	u, err := url.Parse(c.Records)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--records %q: want embedded, sqlite or http://HOST:PORT of a VictoriaLogs (e.g. http://127.0.0.1:9428)", c.Records)
	}
	return strings.TrimSuffix(c.Records, "/"), nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// isHexAddress reports whether s is 0x and 40 hex digits.
func isHexAddress(s string) bool {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) != 40 {
		return false
	}
	return strings.Trim(strings.ToLower(h), "0123456789abcdef") == ""
}
