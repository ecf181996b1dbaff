package monitor

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// catalog is what compiling needs to know: the known contracts by name and
// address, with their parsed ABIs.
type catalog struct {
	byName map[string][]common.Address
	byAddr map[common.Address]*known
}

type known struct {
	name string
	abi  *abi.ABI // nil when it does not parse
}

func newCatalog(cs []store.Contract) *catalog {
	c := &catalog{byName: map[string][]common.Address{}, byAddr: map[common.Address]*known{}}
	for _, k := range cs {
		kn := &known{name: k.Name}
		if a, err := decode.ParseABI(k.ABI); err == nil {
			kn.abi = a
		}
		c.byAddr[k.Address] = kn
		if k.Name != "" {
			c.byName[k.Name] = append(c.byName[k.Name], k.Address)
		}
	}
	return c
}

func (c *catalog) names() []string {
	var out []string
	for n := range c.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// compiled is a monitor ready to evaluate.
type compiled struct {
	spec Spec
	// addrs are the watched contracts; nil watches every contract.
	addrs map[common.Address]bool
	// events are the event names and signatures matched.
	events map[string]bool
	method methodMatch
	where  []cond
	status string
	allow  map[common.Address]bool
	deny   map[common.Address]bool
	// reason matches revert reasons (glob), "" any.
	reason string

	// state and balance
	target    common.Address
	readData  []byte
	unpack    func([]byte) (string, error)
	slot      common.Hash
	useSlot   bool
	condition cond
	change    bool // the condition compares the change% from the previous block
	token     *common.Address

	q *query.Query

	// feed-deviation: the reference feed, nil for each feed's own
	reference *common.Address
}

type methodMatch struct {
	any      bool
	name     string
	sig      string
	selector []byte
}

func (m methodMatch) match(name, sig string, selector []byte) bool {
	switch {
	case m.any:
		return true
	case m.selector != nil:
		return bytes.Equal(m.selector, selector)
	case m.sig != "":
		return sig == m.sig
	}
	return name == m.name
}

// compile checks a spec against the known contracts and prepares it. The
// error is FieldErrors, every problem of the spec: its fields are checked
// independently, and those of its kind only once the generic ones hold.
func compile(s Spec, cat *catalog) (*compiled, error) {
	errs := s.check()
	add := func(fe *FieldError) { errs = append(errs, fe) }
	if len(errs) > 0 && !slices.Contains(Kinds, s.Kind) {
		return nil, errs
	}
	c := &compiled{spec: s, method: methodMatch{any: true}}
	var abis []*abi.ABI
	resolved := true
	if cs := s.contracts(); len(cs) > 0 && !slices.Contains(cs, "*") {
		c.addrs = map[common.Address]bool{}
		for i, name := range cs {
			field, idx := "contracts", i
			if s.Contract != "" {
				if i == 0 {
					field, idx = "contract", -1
				} else {
					idx = i - 1
				}
			}
			addrs, err := cat.resolve(name)
			if err != nil {
				add(&FieldError{Field: field, Index: idx, Offset: -1, Msg: err.Error()})
				resolved = false
				continue
			}
			for _, a := range addrs {
				c.addrs[a] = true
				if k := cat.byAddr[a]; k != nil && k.abi != nil {
					abis = append(abis, k.abi)
				}
			}
		}
	}
	if !resolved {
		// Events and methods are checked against the ABIs of every
		// watched contract or not at all.
		abis = nil
	}
	if evs := s.events(); len(evs) > 0 {
		c.events = map[string]bool{}
		for i, ev := range evs {
			if err := checkEvent(ev, abis); err != nil {
				field, idx := "events", i
				if s.Event != "" {
					if i == 0 {
						field, idx = "event", -1
					} else {
						idx = i - 1
					}
				}
				add(&FieldError{Field: field, Index: idx, Offset: -1, Msg: err.Error()})
				continue
			}
			c.events[ev] = true
		}
	}
	if s.Method != "" {
		m, err := parseMethod(s.Method, abis)
		if err != nil {
			add(fieldErr("method", "%v", err))
		}
		c.method = m
	}
	for i, w := range s.Where {
		cd, err := parseCond(w, "")
		if err != nil {
			add(&FieldError{Field: "where", Index: i, Offset: -1, Msg: err.Error()})
			continue
		}
		c.where = append(c.where, cd)
	}
	c.status = s.Status
	switch c.status {
	case "", "any", "success", "failed":
	default:
		add(fieldErr("status", "%q is not success, failed or any", s.Status))
	}
	var aerrs FieldErrors
	c.allow, aerrs = addrSet("allow", s.Allow)
	errs = append(errs, aerrs...)
	c.deny, aerrs = addrSet("deny", s.Deny)
	errs = append(errs, aerrs...)
	c.reason = s.Reason

	// The kind's own checks skip the fields already found wrong or
	// missing: they would only repeat that.
	has := func(fields ...string) bool {
		return slices.ContainsFunc(errs, func(fe *FieldError) bool { return slices.Contains(fields, fe.Field) })
	}
	switch s.Kind {
	case KindState:
		if !has("contract", "read", "slot", "args", "condition") {
			if err := c.compileState(cat, abis); err != nil {
				add(asFieldError(err))
			}
		}
	case KindBalance:
		addr, err := oneAddress(cat, s.Address)
		if err != nil && !has("address") {
			add(fieldErr("address", "%v", err))
		}
		c.target = addr
		if s.Token != "" && !has("token") {
			tok, err := oneAddress(cat, s.Token)
			if err != nil {
				add(fieldErr("token", "%v", err))
			}
			c.token = &tok
			c.readData = append(crypto.Keccak256([]byte("balanceOf(address)"))[:4], common.LeftPadBytes(addr[:], 32)...)
		}
	case KindFeedDeviation:
		if s.Reference != "" && !has("reference") {
			ref, err := oneAddress(cat, s.Reference)
			if err != nil {
				add(fieldErr("reference", "%v", err))
			}
			c.reference = &ref
		}
	case KindQuery:
		if !has("query") {
			q, err := query.Parse(s.Query)
			if err != nil {
				fe := fieldErr("query", "%v", err)
				if qe, ok := err.(*query.Error); ok {
					fe.Offset = qe.Pos
					fe.Msg = qe.Msg
				}
				add(fe)
			} else if !hasAggregation(q) {
				add(fieldErr("query", "a query monitor needs a stats pipe, e.g. %s | stats count()", s.Query))
			}
			c.q = q
		}
		if !has("condition") {
			var err error
			if c.condition, err = parseCond(s.Condition, "value"); err != nil {
				add(fieldErr("condition", "%v", err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// asFieldError returns err as a FieldError, naming no field when it is
// not one.
func asFieldError(err error) *FieldError {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return &FieldError{Field: "", Index: -1, Offset: -1, Msg: err.Error()}
}

func hasAggregation(q *query.Query) bool {
	for _, p := range q.Pipes {
		switch p.(type) {
		case *query.Stats, *query.Top:
			return true
		}
	}
	return false
}

// resolve turns a contract name or address into addresses.
func (c *catalog) resolve(name string) ([]common.Address, error) {
	if common.IsHexAddress(name) {
		return []common.Address{common.HexToAddress(name)}, nil
	}
	if addrs := c.byName[name]; len(addrs) > 0 {
		return addrs, nil
	}
	if len(c.byName) == 0 {
		return nil, fmt.Errorf("unknown contract %q (no contract is registered yet: add its ABI, or use its address)", name)
	}
	return nil, fmt.Errorf("unknown contract %q (known: %s)", name, strings.Join(c.names(), ", "))
}

func oneAddress(cat *catalog, name string) (common.Address, error) {
	addrs, err := cat.resolve(name)
	if err != nil {
		return common.Address{}, err
	}
	if len(addrs) > 1 {
		return common.Address{}, fmt.Errorf("%q names %d contracts; use an address", name, len(addrs))
	}
	return addrs[0], nil
}

func addrSet(field string, list []string) (map[common.Address]bool, FieldErrors) {
	if len(list) == 0 {
		return nil, nil
	}
	out := map[common.Address]bool{}
	var errs FieldErrors
	for i, a := range list {
		if !common.IsHexAddress(a) {
			errs = append(errs, &FieldError{Field: field, Index: i, Offset: -1, Msg: fmt.Sprintf("%q is not an address", a)})
			continue
		}
		out[common.HexToAddress(a)] = true
	}
	return out, errs
}

// checkEvent checks that an event exists in at least one watched ABI. With
// no ABI known (any contract, or contracts by address only) any event
// name is accepted.
func checkEvent(ev string, abis []*abi.ABI) error {
	if len(abis) == 0 {
		return nil
	}
	var names []string
	for _, a := range abis {
		for _, e := range a.Events {
			if e.Name == ev || e.Sig == ev {
				return nil
			}
			names = append(names, e.Name)
		}
	}
	slices.Sort(names)
	return fmt.Errorf("unknown event %q (the contract declares %s)", ev, strings.Join(slices.Compact(names), ", "))
}

func parseMethod(m string, abis []*abi.ABI) (methodMatch, error) {
	if strings.HasPrefix(m, "0x") {
		b, err := hex.DecodeString(m[2:])
		if err != nil || len(b) != 4 {
			return methodMatch{}, fmt.Errorf("%q is not a 4-byte selector", m)
		}
		return methodMatch{selector: b}, nil
	}
	if strings.Contains(m, "(") {
		sig := strings.ReplaceAll(m, " ", "")
		return methodMatch{sig: sig, selector: crypto.Keccak256([]byte(sig))[:4]}, nil
	}
	if len(abis) > 0 {
		var names []string
		found := false
		for _, a := range abis {
			for _, x := range a.Methods {
				if x.Name == m {
					found = true
				}
				names = append(names, x.Name)
			}
		}
		if !found {
			slices.Sort(names)
			return methodMatch{}, fmt.Errorf("unknown method %q (the contract has %s)", m, strings.Join(slices.Compact(names), ", "))
		}
	}
	return methodMatch{name: m}, nil
}

// compileState prepares the view call or slot of a state watch.
func (c *compiled) compileState(cat *catalog, abis []*abi.ABI) error {
	s := c.spec
	addr, err := oneAddress(cat, s.Contract)
	if err != nil {
		return fieldErr("contract", "%v", err)
	}
	c.target = addr
	cond := s.Condition
	if rest, ok := strings.CutPrefix(strings.TrimSpace(cond), "change%"); ok {
		c.change = true
		cond = rest
	}
	if c.condition, err = parseCond(cond, "value"); err != nil {
		return fieldErr("condition", "%v", err)
	}
	if s.Slot != "" {
		slot, err := parseSlot(s.Slot)
		if err != nil {
			return fieldErr("slot", "%v", err)
		}
		c.slot, c.useSlot = slot, true
		c.unpack = func(b []byte) (string, error) { return new(big.Int).SetBytes(b).String(), nil }
		return nil
	}
	call, sel, err := splitReadSelector(s.Read)
	if err != nil {
		return fieldErr("read", "%v", err)
	}
	var method *abi.Method
	if name, sig, ok := strings.Cut(call, " returns "); ok {
		// "name(types) returns (types)": a signature the ABI need not know.
		m, err := decode.MethodFromSignature(strings.TrimSpace(name), strings.TrimSpace(sig))
		if err != nil {
			return fieldErr("read", "%v", err)
		}
		method = m
	} else {
		name, sig := call, ""
		if open := strings.IndexByte(call, '('); open >= 0 {
			name, sig = call[:open], strings.ReplaceAll(call, " ", "")
		}
		for _, a := range abis {
			if m, ok := a.Methods[name]; ok && (sig == "" || sig == m.Sig || sig == name+"()" && len(m.Inputs) == 0) {
				method = &m
				break
			}
		}
		if method == nil && sig != "" {
			// A signature the ABI does not know returns one uint256.
			m, err := decode.MethodFromSignature(call, "")
			if err != nil {
				return fieldErr("read", "%v", err)
			}
			method = m
		}
		if method == nil {
			return fieldErr("read", "unknown method %q: name a method of the contract's ABI or write a signature like \"paused() returns (bool)\"", name)
		}
	}
	if len(method.Outputs) == 0 {
		return fieldErr("read", "%s returns nothing to watch", method.Sig)
	}
	args := make([]any, len(method.Inputs))
	if len(s.Args) != len(method.Inputs) {
		return fieldErr("args", "%s takes %d arguments, got %d", method.Sig, len(method.Inputs), len(s.Args))
	}
	for i, in := range method.Inputs {
		v, err := decode.ParseArgText(in.Type, s.Args[i])
		if err != nil {
			return &FieldError{Field: "args", Index: i, Offset: -1, Msg: err.Error()}
		}
		args[i] = v
	}
	data, err := decode.PackCall(*method, args)
	if err != nil {
		return fieldErr("args", "%v", err)
	}
	c.readData = data
	pick, err := sel.pick(method)
	if err != nil {
		return fieldErr("read", "%v", err)
	}
	m := *method
	c.unpack = func(b []byte) (string, error) {
		outs, err := decode.DecodeOutputs(m, b)
		if err != nil {
			return "", err
		}
		if len(outs) <= pick {
			return "", fmt.Errorf("%d values returned, output %d wanted", len(outs), pick)
		}
		return outs[pick].Text(), nil
	}
	return nil
}
