package gethtest

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"
)

func TestStartAnswersDebugAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts geth")
	}
	ctx := context.Background()
	n, err := Start(ctx, Options{Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c, err := rpc.DialContext(ctx, n.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var accounts []string
	if err := c.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) != 1 {
		t.Fatalf("eth_accounts = %v, %v; want the dev account", accounts, err)
	}
	// debug_traceTransaction of an unknown hash must fail for the hash, not
	// for a missing method.
	var res any
	err = c.CallContext(ctx, &res, "debug_traceTransaction", "0x"+"00"+"11223344556677889900112233445566778899001122334455667788990011", map[string]any{})
	if err == nil {
		t.Fatal("tracing an unknown tx succeeded")
	}
	if e, ok := err.(rpc.Error); ok && e.ErrorCode() == -32601 {
		t.Fatalf("debug API missing: %v", err)
	}
}
