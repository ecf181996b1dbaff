package monitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/monitor"
)

// TestApplyRefusesPrivateChannel: a channel pointing at the cloud metadata
// address is refused when the file is applied, naming the channel, and
// nothing is applied.
func TestApplyRefusesPrivateChannel(t *testing.T) {
	e, st, _ := engineOnStore(t, time.Now)
	f, _, err := monitor.ParseYAML("ops.yaml", []byte("channels:\n  - name: meta\n    type: webhook\n    url: http://169.254.169.254/latest/meta-data/\nmonitors: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(context.Background(), monitor.OriginCode, f)
	if err == nil || !strings.Contains(err.Error(), "channel meta: 169.254.169.254: destination 169.254.169.254 is a link-local address") {
		t.Fatalf("apply: %v, want a refusal naming the channel", err)
	}
	if defs, _ := st.ChannelDefs(context.Background()); len(defs) != 0 {
		t.Fatalf("channels stored after the refusal: %+v", defs)
	}
}
