package dashboard

// HomeID is the ID of the built-in home dashboard. Saving a dashboard with
// this ID replaces the built-in one; deleting it brings the built-in back.
const HomeID = "home"

// Home is the out-of-the-box dashboard: KPIs of the watched contracts
// and of the off-chain logs. Each panel is a query with a pipe, so that
// what it shows can be read and edited.
func Home() Dashboard {
	return Dashboard{
		ID:      HomeID,
		Name:    "Home",
		Builtin: true,
		Spec: Spec{From: "now-1h", To: "now", Refresh: "30s", Panels: []Panel{
			{ID: "txs", Title: "Transactions", Type: TypeBar, Query: "kind:tx | timechart count()", Width: 4, Height: 2, Summary: SummaryRate, Unit: "tx/min"},
			{ID: "failures", Title: "Failure rate", Type: TypeStacked, Query: "kind:tx | timechart count() by status", Width: 4, Height: 2, Summary: SummaryRatio + "failed", Unit: "%"},
			{ID: "gas", Title: "Gas used", Type: TypeTimeseries, Query: "kind:tx | timechart sum(gasUsed)", Width: 4, Height: 2, Summary: SummaryTotal, Unit: "gas"},
			{ID: "active", Title: "Active addresses", Type: TypeTimeseries, Query: "kind:tx | timechart count_distinct(from)", Width: 4, Height: 2, Summary: SummaryMax, Unit: "peak"},
			{ID: "events", Title: "Events by type", Type: TypeStacked, Query: "kind:event | timechart count() by event", Width: 8, Height: 2, Summary: SummaryTotal, Unit: "events"},
			{ID: "reverts", Title: "Top revert reasons", Type: TypeBar, Query: "kind:revert | top 10 revertReason", Width: 4, Height: 2},
			{ID: "errors", Title: "Error logs by service", Type: TypeStacked, Query: "-source:chain level:>=error | timechart count() by service", Width: 4, Height: 2, Summary: SummaryTotal, Unit: "errors"},
			{ID: "alerts", Title: "Newest alerts", Type: TypeAlerts, Width: 4, Height: 2},
		}},
	}
}
